"""A service catches up on every applied spec before it starts, then follows new ones live."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftloop_contracts import SPECS_TOPIC, SpecApplied, spec_digest
from driftloop_runtime import RuntimeSettings, ServiceParts, follow_specs
from driftloop_spec import load_spec
from tests.integration.kafka_helpers import produce

pytestmark = pytest.mark.integration

FRAUD = Path(__file__).parents[2] / "specs" / "fraud.yaml"


def applied(dataset: str, version: int, min_labelled_rows: int) -> SpecApplied:
    document = load_spec(FRAUD).to_document()
    document["name"] = dataset
    document["training"]["min_labelled_rows"] = min_labelled_rows
    return SpecApplied(
        event_id=f"spec.applied:{dataset}:{version}",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        producer="registry",
        dataset=dataset,
        spec_version=version,
        spec=document,
        digest=spec_digest(document),
    )


async def publish(bootstrap: str, *events: SpecApplied) -> None:
    await produce(
        bootstrap,
        SPECS_TOPIC,
        [(e.dataset.encode(), e.model_dump_json().encode(), []) for e in events],
    )


async def test_catalog_catches_up_then_follows_new_versions(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = f"follow-{uuid.uuid4().hex[:8]}"
    await publish(bootstrap, applied(dataset, 1, 100), applied(dataset, 2, 200))
    parts = ServiceParts(
        "follower",
        RuntimeSettings(kafka_bootstrap=bootstrap, traces_file=tmp_path / "traces.jsonl"),
    )

    catalog = await follow_specs(parts)
    caught_up = catalog.get(dataset)
    assert caught_up is not None
    assert (caught_up[0], caught_up[1].training.min_labelled_rows) == (2, 200)

    await parts.start()
    try:
        await publish(bootstrap, applied(dataset, 3, 300))
        for _ in range(100):
            current = catalog.get(dataset)
            if current is not None and current[0] == 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await parts.stop()
    assert current is not None
    assert (current[0], current[1].training.min_labelled_rows) == (3, 300)
