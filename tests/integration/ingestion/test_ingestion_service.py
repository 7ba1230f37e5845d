"""The ingestion service as a process on the embedded broker, with specs from the registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    DEAD_LETTER_TOPIC,
    OUTCOMES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    DeadLettered,
    Event,
)
from tests.integration.conftest import RunningService
from tests.integration.ingestion.helpers import (
    Record,
    TopicTail,
    apply_spec,
    ingestion_client,
    post,
    publish_events,
    stats,
    unique_dataset,
    wait_for_spec,
)
from tests.unit.ingestion.helpers import data_event, outcome_event

pytestmark = pytest.mark.integration


def as_json(event: Event) -> dict[str, object]:
    return event.model_dump(mode="json")


def of_dataset(dataset: str) -> Callable[[Record], bool]:
    def keep(record: Record) -> bool:
        return bool(json.loads(record.value).get("dataset") == dataset)

    return keep


def letters_for(records: list[Record], prefix: str) -> dict[str, DeadLettered]:
    """Dead letters of this test's records (their key or event id starts with ``prefix``), by
    the rejected event's id (or key, when it had no id)."""
    found = {}
    for record in records:
        letter = DeadLettered.model_validate_json(record.value)
        name = letter.causation_id or letter.original_key or ""
        if name.startswith(prefix):
            found[name] = letter
    return found


async def test_a_mixed_batch_over_kafka_and_http_comes_out_validated_once_or_dead_lettered(
    registry_service: RunningService,
    ingestion_service: RunningService,
    infra: dict[str, str],
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    ds = unique_dataset("mixed")
    assert await apply_spec(registry_service, ds, max_amount=1000.0) == 1
    await wait_for_spec(ingestion_service, ds, 1)

    def event(name: str, **options: Any) -> Event:
        return data_event(f"{ds}-{name}", dataset=ds, entity_id=f"{ds}-card-{name}", **options)

    padding = {f"pad{i}": "x" * 1000 for i in range(5)}  # > 4 KiB: over the size limit
    kafka_data: list[Event | tuple[bytes, bytes]] = [
        event("k1"),
        event("k2", colour="red"),  # an unknown field: accepted, field left out
        event("k3", label=True),
        event("k1"),  # duplicate
        event("neg", amount=-5.0),
        event("multi", merchant_category="casino", drop=("country",), items="3"),
        event("label", label="yes"),
        event("big", changes=padding),
        data_event(f"{ds}-nospec", dataset=f"{ds}-none", entity_id=f"{ds}-card-x"),
        (f"{ds}-broken".encode(), f'{{"event_id": "{ds}-broken"'.encode()),  # not JSON
    ]
    kafka_outcomes = [
        outcome_event(f"{ds}-o1", dataset=ds, entity_id=f"{ds}-card-k1", subject=f"{ds}-k1"),
        outcome_event(f"{ds}-o2", dataset=ds, entity_id=None, subject=f"{ds}-k2"),
        outcome_event(f"{ds}-o3", dataset=ds, label=3, subject=f"{ds}-k3"),
        outcome_event(f"{ds}-o1", dataset=ds, entity_id=f"{ds}-card-k1", subject=f"{ds}-k1"),
    ]
    async with (
        TopicTail(bootstrap, DATA_VALIDATED_TOPIC) as validated,
        TopicTail(bootstrap, OUTCOMES_VALIDATED_TOPIC) as outcomes,
        TopicTail(bootstrap, DEAD_LETTER_TOPIC) as dead,
    ):
        await publish_events(bootstrap, DATA_TOPIC, kafka_data)
        await publish_events(bootstrap, OUTCOMES_TOPIC, kafka_outcomes)
        await validated.collect(of_dataset(ds), expect=3)

        answer = await post(
            ingestion_service,
            "/v1/events",
            [
                as_json(event("h1")),
                as_json(event("h2", items=99)),
                as_json(event("h1")),
                as_json(event("k2")),  # seen on Kafka already
                {"event_id": f"{ds}-h3", "dataset": ds},
            ],
        )
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["status"] for r in results] == [
            "accepted",
            "rejected",
            "duplicate",
            "duplicate",
            "rejected",
        ]
        assert results[1]["reasons"] == ["items: 99 is above the maximum 50"]
        outcome_answer = await post(
            ingestion_service,
            "/v1/outcomes",
            [
                as_json(outcome_event(f"{ds}-ho1", dataset=ds, entity_id=f"{ds}-card-h1")),
                as_json(outcome_event(f"{ds}-ho2", dataset=ds, label="no")),
            ],
        )
        assert [r["status"] for r in outcome_answer.json()["results"]] == ["accepted", "rejected"]

        data_out = await validated.collect(of_dataset(ds), expect=4, settle_s=3)
        outcome_out = await outcomes.collect(of_dataset(ds), expect=3, settle_s=1)
        letters = letters_for(await dead.collect(lambda r: True, expect=0, settle_s=2), ds)

    # every valid event exactly once, keyed by its entity, checked against version 1
    validated_events = [(r.key, json.loads(r.value)) for r in data_out]
    assert sorted((key, v["subject_event_id"]) for key, v in validated_events) == sorted(
        (f"{ds}-card-{n}".encode(), f"{ds}-{n}") for n in ("k1", "k2", "k3", "h1")
    )
    assert {v["spec_version"] for _, v in validated_events} == {1}
    k2 = next(v for _, v in validated_events if v["subject_event_id"] == f"{ds}-k2")
    assert "colour" not in k2["fields"]
    assert k2["event_id"] == f"data.validated:{ds}-k2"
    assert k2["source_topic"] == DATA_TOPIC

    assert sorted((r.key, json.loads(r.value)["causation_id"]) for r in outcome_out) == sorted(
        [
            (f"{ds}-card-k1".encode(), f"{ds}-o1"),
            (f"{ds}-k2".encode(), f"{ds}-o2"),  # no entity_id: keyed by its subject event
            (f"{ds}-card-h1".encode(), f"{ds}-ho1"),
        ]
    )

    # every invalid Kafka event a dead letter with its reason; HTTP rejections only answered
    assert letters[f"{ds}-neg"].reason == "amount: -5.0 is below the minimum 0.0"
    assert letters[f"{ds}-multi"].reason == (
        'merchant_category: "casino" is not one of ["grocery", "restaurant", "travel", '
        '"electronics", "fuel", "online_retail", "entertainment", "health"]; '
        'country: missing (required); items: expected an integer, got string "3"'
    )
    assert letters[f"{ds}-label"].reason == 'label: expected a boolean, got string "yes"'
    assert letters[f"{ds}-big"].error_type == "too_large"
    assert letters[f"{ds}-big"].reason.startswith("message: ")
    assert letters[f"{ds}-big"].reason.endswith(" bytes, over the limit of 4096 bytes")
    assert letters[f"{ds}-nospec"].error_type == "unknown_dataset"
    assert letters[f"{ds}-o3"].reason == "label: expected a boolean, got integer 3"
    broken = [x for x in letters.values() if x.error_type == "contract"]
    assert len(broken) == 1
    assert broken[0].original_value.startswith(f'{{"event_id": "{ds}-broken"'.encode())
    assert broken[0].original_key == f"{ds}-broken"
    assert set(letters) == {
        f"{ds}-{n}" for n in ("neg", "multi", "label", "big", "nospec", "o3", "broken")
    }
    assert letters[f"{ds}-neg"].source_topic == DATA_TOPIC
    assert letters[f"{ds}-neg"].original_key == f"{ds}-card-neg"

    counters = await stats(ingestion_service)
    assert counters["data"]["duplicates"] >= 1
    assert counters["outcomes"]["duplicates"] >= 1
    assert counters["data"]["unknown_fields"]["by_field"][f"{ds}.colour"] == 1
    assert counters["data"]["http"]["duplicates"] >= 2


async def test_a_new_spec_version_is_picked_up_without_a_restart(
    registry_service: RunningService,
    ingestion_service: RunningService,
    infra: dict[str, str],
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    ds = unique_dataset("live")
    await apply_spec(registry_service, ds, max_amount=100.0)
    await wait_for_spec(ingestion_service, ds, 1)

    def event(name: str, amount: float) -> Event:
        return data_event(f"{ds}-{name}", dataset=ds, amount=amount)

    async with (
        TopicTail(bootstrap, DATA_VALIDATED_TOPIC) as validated,
        TopicTail(bootstrap, DEAD_LETTER_TOPIC) as dead,
    ):
        await publish_events(
            bootstrap, DATA_TOPIC, [event("before-ok", 80.0), event("before", 150.0)]
        )
        mine = of_dataset(ds)
        await validated.collect(mine, expect=1)
        letters = letters_for(await dead.collect(lambda r: True, expect=0, settle_s=2), ds)
        assert letters[f"{ds}-before"].reason == "amount: 150.0 is above the maximum 100.0"

        assert await apply_spec(registry_service, ds, max_amount=200.0) == 2
        await wait_for_spec(ingestion_service, ds, 2)
        await publish_events(bootstrap, DATA_TOPIC, [event("after", 150.0)])
        out = await validated.collect(mine, expect=2, settle_s=1)

    values = [json.loads(r.value) for r in out]
    versions = {v["subject_event_id"]: v["spec_version"] for v in values}
    assert versions == {f"{ds}-before-ok": 1, f"{ds}-after": 2}


async def test_the_http_api_refuses_a_wrong_token_and_an_oversized_request(
    ingestion_service: RunningService,
) -> None:
    body = [as_json(data_event("t-1"))]
    async with ingestion_client(ingestion_service, token="not-the-token-at-all") as http:
        assert (await http.post("/v1/events", json=body)).status_code == 401
    assert (await post(ingestion_service, "/v1/events", body * 51)).status_code == 413
    assert (await post(ingestion_service, "/v1/events", {"not": "a list"})).status_code == 422
