"""``driftloop deadletters`` against the ingestion service: list the rejects, apply a spec that
accepts them, replay them once (validated once), replay again (nothing new)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from driftloop_contracts import DATA_TOPIC, DATA_VALIDATED_TOPIC
from tests.integration.conftest import RunningService
from tests.integration.ingestion.helpers import (
    Record,
    TopicTail,
    apply_spec,
    publish_events,
    run_cli,
    stats,
    unique_dataset,
    wait_for_spec,
    wait_for_stats,
)
from tests.unit.ingestion.helpers import data_event

pytestmark = pytest.mark.integration


def validated_ids(records: list[Record], dataset: str) -> list[str]:
    values = [json.loads(r.value) for r in records]
    return sorted(v["subject_event_id"] for v in values if v["dataset"] == dataset)


def group_of(groups: list[dict[str, Any]], pattern: str) -> dict[str, Any]:
    (found,) = [g for g in groups if g["reason"] == pattern and g["source_topic"] == DATA_TOPIC]
    return found


async def test_dead_letters_are_listed_by_cause_and_replayed_once_after_a_spec_fix(
    registry_service: RunningService,
    ingestion_service: RunningService,
    infra: dict[str, str],
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    ds = unique_dataset("replay")
    ceiling = round(random.uniform(500, 900), 3)  # names this test's reasons: "maximum <ceiling>"
    await apply_spec(registry_service, ds, max_amount=ceiling)
    await wait_for_spec(ingestion_service, ds, 1)
    names = [f"{ds}-{n}" for n in range(3)]
    too_big = [data_event(n, dataset=ds, amount=ceiling + 1 + i) for i, n in enumerate(names)]
    # the first one twice: two dead letters with the same original, replayed once
    await publish_events(bootstrap, DATA_TOPIC, [*too_big, too_big[0]])
    selector = f"above the maximum {ceiling}"

    async with TopicTail(bootstrap, DATA_VALIDATED_TOPIC) as validated:
        await wait_for_stats(
            ingestion_service, lambda s: s["data"]["dead_lettered"].get("spec", 0) >= 4
        )
        listed = await run_cli(bootstrap, "deadletters", "list", "--source-topic", DATA_TOPIC)
        assert listed.exit_code == 0, listed.output
        assert "amount: N is above the maximum N" in listed.output
        as_json = await run_cli(
            bootstrap, "deadletters", "list", "--source-topic", DATA_TOPIC, "--json"
        )
        group = group_of(json.loads(as_json.output), "amount: N is above the maximum N")
        assert group["error_type"] == "spec"
        assert group["count"] >= 4
        assert group["first_seen"] <= group["last_seen"]

        # still invalid under v1: a dry run shows them, sends nothing
        dry = await run_cli(
            bootstrap, "deadletters", "replay", "--reason-contains", selector, "--dry-run"
        )
        assert dry.exit_code == 0, dry.output
        assert "would replay 3 of 4 selected dead letters" in dry.output

        assert await apply_spec(registry_service, ds, max_amount=ceiling + 100) == 2
        await wait_for_spec(ingestion_service, ds, 2)
        replayed = await run_cli(
            bootstrap,
            "deadletters",
            "replay",
            "--reason-contains",
            selector,
            "--source-topic",
            DATA_TOPIC,
        )
        assert replayed.exit_code == 0, replayed.output
        assert replayed.output.splitlines() == [
            f"replayed 3 of 4 selected dead letters (3 to {DATA_TOPIC})",
            "1 repeated the same original and were sent once",
        ]
        records = await validated.collect(
            lambda r: json.loads(r.value)["dataset"] == ds, expect=3, settle_s=1
        )
        assert validated_ids(records, ds) == sorted(names)
        assert {json.loads(r.value)["spec_version"] for r in records} == {2}

        before = (await stats(ingestion_service))["data"]["duplicates"]
        again = await run_cli(bootstrap, "deadletters", "replay", "--reason-contains", selector)
        assert again.exit_code == 0, again.output
        assert again.output.startswith("replayed 3 of 4 selected dead letters")
        await wait_for_stats(ingestion_service, lambda s: s["data"]["duplicates"] >= before + 3)
        records = await validated.collect(
            lambda r: json.loads(r.value)["dataset"] == ds, expect=4, timeout_s=3
        )
        assert validated_ids(records, ds) == sorted(names)  # still once each
