"""A service catches up on the model versions in force before it starts, then follows changes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from driftloop_contracts import (
    MODELS_PROMOTED_TOPIC,
    MODELS_ROLLED_BACK_TOPIC,
    ModelPromoted,
    ModelRolledBack,
)
from driftloop_runtime import RuntimeSettings, ServiceParts, ServingChange, follow_models
from tests.integration.kafka_helpers import produce

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def promoted(dataset: str, version: int, minute: int) -> ModelPromoted:
    return ModelPromoted.example().model_copy(
        update={
            "event_id": f"model.promoted:{dataset}:{version}:champion",
            "occurred_at": T0 + timedelta(minutes=minute),
            "dataset": dataset,
            "version": version,
        }
    )


async def publish(bootstrap: str, topic: str, *events: ModelPromoted | ModelRolledBack) -> None:
    await produce(
        bootstrap, topic, [(e.dataset.encode(), e.model_dump_json().encode(), []) for e in events]
    )


async def test_catalog_catches_up_then_hears_of_live_changes(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = f"models-{uuid.uuid4().hex[:8]}"
    await publish(
        bootstrap, MODELS_PROMOTED_TOPIC, promoted(dataset, 1, 0), promoted(dataset, 2, 5)
    )
    parts = ServiceParts(
        "follower",
        RuntimeSettings(kafka_bootstrap=bootstrap, traces_file=tmp_path / "traces.jsonl"),
    )
    heard: list[ServingChange] = []

    async def on_change(change: ServingChange) -> None:
        heard.append(change)

    catalog = await follow_models(parts, on_change)
    champion = catalog.serving(dataset)
    assert champion is not None
    assert champion.version == 2

    rollback = ModelRolledBack.example().model_copy(
        update={
            "event_id": f"model.rolled_back:{dataset}:1:champion",
            "occurred_at": T0 + timedelta(minutes=9),
            "dataset": dataset,
            "version": 1,
            "previous_version": 2,
        }
    )
    await parts.start()
    try:
        await publish(bootstrap, MODELS_ROLLED_BACK_TOPIC, rollback)
        for _ in range(100):
            if any(c.dataset == dataset for c in heard):
                break
            await asyncio.sleep(0.1)
    finally:
        await parts.stop()
    mine = [c for c in heard if c.dataset == dataset]
    # the replay of the log by the live subscription (no group: it reads from the start)
    # repeats nothing: only the rollback is a change
    assert [(c.before and c.before.version, c.after and c.after.version) for c in mine] == [(2, 1)]
    champion = catalog.serving(dataset)
    assert champion is not None
    assert champion.version == 1
