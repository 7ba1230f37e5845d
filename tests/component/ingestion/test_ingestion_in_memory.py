"""Ingestion's handlers and HTTP API through FastStream's in-memory broker (no Kafka needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    DEAD_LETTER_TOPIC,
    OUTCOMES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    SPECS_TOPIC,
    DataValidated,
    DeadLettered,
    Event,
    OutcomeValidated,
    SpecApplied,
)
from driftloop_ingestion.api import install_api
from driftloop_ingestion.config import IngestionSettings
from driftloop_ingestion.lanes import Intake
from driftloop_ingestion.main import wire
from driftloop_runtime import BrokerEventPublisher, ServiceParts, SpecCatalog, subscribe_broadcast
from tests.unit.ingestion.helpers import applied, data_event, outcome_event

pytestmark = pytest.mark.component

TOKEN = "component-test-token-0123456789"


@dataclass
class Seen:
    """What the in-memory broker delivered to each output topic, as (key, event)."""

    validated: list[tuple[str, DataValidated]] = field(default_factory=list)
    outcomes: list[tuple[str, OutcomeValidated]] = field(default_factory=list)
    letters: list[DeadLettered] = field(default_factory=list)


@dataclass
class Ingestion:
    parts: ServiceParts
    intake: Intake
    seen: Seen
    http: httpx.AsyncClient
    broker: Any


def _key(message: KafkaMessage) -> str:
    raw = message.raw_message
    assert not isinstance(raw, tuple | list)
    return (raw.key or b"").decode()


@pytest.fixture
async def ingestion(tmp_path: Path) -> AsyncIterator[Ingestion]:
    settings = IngestionSettings(
        traces_file=tmp_path / "traces.jsonl",
        ingestion_max_event_bytes=1024,
        ingestion_http_max_batch=5,
        ingestion_token=TOKEN,
    )
    parts = ServiceParts("ingestion", settings, publisher=BrokerEventPublisher)
    catalog = SpecCatalog()
    catalog.apply(applied(1))
    subscribe_broadcast(parts, topic=SPECS_TOPIC, contract=SpecApplied, handler=catalog.on_applied)
    intake = wire(parts, catalog, settings)
    seen = Seen()

    @parts.broker.subscriber(DATA_VALIDATED_TOPIC)
    async def on_validated(event: DataValidated, message: KafkaMessage) -> None:
        seen.validated.append((_key(message), event))

    @parts.broker.subscriber(OUTCOMES_VALIDATED_TOPIC)
    async def on_outcome(event: OutcomeValidated, message: KafkaMessage) -> None:
        seen.outcomes.append((_key(message), event))

    @parts.broker.subscriber(DEAD_LETTER_TOPIC)
    async def on_letter(letter: DeadLettered) -> None:
        seen.letters.append(letter)

    app = FastAPI()
    install_api(app, settings)
    app.state.intake = intake
    app.state.publisher = parts.publisher
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        TestKafkaBroker(parts.broker) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as http,
    ):
        yield Ingestion(parts, intake, seen, http, broker)


async def publish(ingestion: Ingestion, topic: str, *events: Event, key: bytes = b"k") -> None:
    for event in events:
        await ingestion.broker.publish(event.model_dump_json().encode(), topic, key=key)


def as_json(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


async def test_valid_events_are_validated_once_invalid_ones_dead_lettered(
    ingestion: Ingestion,
) -> None:
    await publish(
        ingestion,
        DATA_TOPIC,
        data_event("e-1", entity_id="card-7"),
        data_event("e-2", amount=-3, is_online="yes"),
        data_event("e-1", entity_id="card-7"),  # a duplicate
        data_event("e-3", dataset="unknown"),
    )
    await ingestion.broker.publish(b'{"event_id": "e-4"}', DATA_TOPIC, key=b"card-4")

    assert [(key, e.event_id, e.spec_version) for key, e in ingestion.seen.validated] == [
        ("card-7", "data.validated:e-1", 1)
    ]
    letters = {letter.causation_id: letter for letter in ingestion.seen.letters}
    assert letters["e-2"].reason == (
        'amount: -3 is below the minimum 0.0; is_online: expected a boolean, got string "yes"'
    )
    assert letters["e-2"].error_type == "spec"
    assert (
        letters["e-2"].original_value
        == data_event("e-2", amount=-3, is_online="yes").model_dump_json().encode()
    )
    assert letters["e-3"].error_type == "unknown_dataset"
    assert letters[None].error_type == "contract"  # not a DataEvent: the runtime's rejection
    assert letters[None].original_key == "card-4"
    stats = ingestion.intake.stats()["data"]
    assert (stats["accepted"], stats["duplicates"], stats["rejected"]) == (1, 1, 3)
    assert stats["dead_lettered"] == {"spec": 1, "unknown_dataset": 1, "contract": 1}


async def test_outcomes_are_keyed_by_entity_or_subject_and_checked_against_the_label(
    ingestion: Ingestion,
) -> None:
    await publish(
        ingestion,
        OUTCOMES_TOPIC,
        outcome_event("o-1", label=False),
        outcome_event("o-2", entity_id=None, subject="e-42"),
        outcome_event("o-3", label="fraud"),
        outcome_event("o-1", label=False),
    )
    assert [(key, e.event_id) for key, e in ingestion.seen.outcomes] == [
        ("card-1", "outcome.validated:o-1"),
        ("e-42", "outcome.validated:o-2"),
    ]
    (letter,) = ingestion.seen.letters
    assert (letter.causation_id, letter.error_type) == ("o-3", "spec")
    assert letter.reason == 'label: expected a boolean, got string "fraud"'
    assert ingestion.intake.stats()["outcomes"]["duplicates"] == 1


async def test_a_new_spec_version_applies_to_the_next_events_without_a_restart(
    ingestion: Ingestion,
) -> None:
    await publish(ingestion, DATA_TOPIC, data_event("e-1", amount=1500.0))
    assert [letter.causation_id for letter in ingestion.seen.letters] == ["e-1"]
    assert "above the maximum 1000.0" in ingestion.seen.letters[0].reason

    await publish(ingestion, SPECS_TOPIC, applied(2, max_amount=2000.0))
    await publish(ingestion, DATA_TOPIC, data_event("e-2", amount=1500.0))
    assert [(e.event_id, e.spec_version) for _, e in ingestion.seen.validated] == [
        ("data.validated:e-2", 2)
    ]
    assert ingestion.intake.stats()["specs"] == {"shop": 2}


async def test_the_http_api_answers_per_event_and_publishes_the_accepted_ones(
    ingestion: Ingestion,
) -> None:
    body = [
        as_json(data_event("h-1")),
        as_json(data_event("h-2", items=0, colour="red")),
        as_json(data_event("h-1")),
        {"event_id": "h-3", "dataset": "shop"},
        as_json(data_event("h-4", colour="red")),
    ]
    response = await ingestion.http.post("/v1/events", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"], answer["duplicates"]) == (2, 2, 1)
    results = answer["results"]
    assert [(r["index"], r["event_id"], r["status"]) for r in results] == [
        (0, "h-1", "accepted"),
        (1, "h-2", "rejected"),
        (2, "h-1", "duplicate"),
        (3, "h-3", "rejected"),
        (4, "h-4", "accepted"),
    ]
    assert results[1]["reasons"] == ["items: 0 is below the minimum 1"]
    assert results[1]["warnings"] == ["colour: unknown field, not in the spec (left out)"]
    assert "entity_id: Field required" in results[3]["reasons"]
    assert results[4]["warnings"] == ["colour: unknown field, not in the spec (left out)"]

    # accepted ones went through the raw topic to the validated one; rejections are answered only
    assert [(k, e.event_id) for k, e in ingestion.seen.validated] == [
        ("card-1", "data.validated:h-1"),
        ("card-1", "data.validated:h-4"),
    ]
    assert "colour" not in ingestion.seen.validated[1][1].fields
    assert ingestion.seen.letters == []
    http = ingestion.intake.stats()["data"]["http"]
    assert http == {
        "accepted": 2,
        "rejected": 2,
        "duplicates": 1,
        "problems": {"out_of_bounds": 1, "contract": 1},
    }


async def test_an_event_seen_on_kafka_is_a_duplicate_over_http_and_back(
    ingestion: Ingestion,
) -> None:
    await publish(ingestion, DATA_TOPIC, data_event("x-1"))
    response = await ingestion.http.post("/v1/events", json=[as_json(data_event("x-1"))])
    assert response.json()["results"][0]["status"] == "duplicate"

    response = await ingestion.http.post("/v1/events", json=[as_json(data_event("x-2"))])
    assert response.json()["accepted"] == 1
    await publish(ingestion, DATA_TOPIC, data_event("x-2"))
    assert [e.event_id for _, e in ingestion.seen.validated] == [
        "data.validated:x-1",
        "data.validated:x-2",
    ]
    assert ingestion.intake.stats()["data"]["duplicates"] == 1


async def test_outcomes_over_http(ingestion: Ingestion) -> None:
    body = [
        as_json(outcome_event("ho-1")),
        as_json(outcome_event("ho-2", label=7)),
    ]
    answer = (await ingestion.http.post("/v1/outcomes", json=body)).json()
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected"]
    assert answer["results"][1]["reasons"] == ["label: expected a boolean, got integer 7"]
    assert [e.event_id for _, e in ingestion.seen.outcomes] == ["outcome.validated:ho-1"]


async def test_a_request_over_the_batch_size_is_413_and_a_non_array_422(
    ingestion: Ingestion,
) -> None:
    event = as_json(data_event("b-1"))
    assert (await ingestion.http.post("/v1/events", json=[event] * 6)).status_code == 413
    assert (await ingestion.http.post("/v1/events", json=event)).status_code == 422
    assert (await ingestion.http.post("/v1/events", content=b"not json")).status_code == 422
    assert ingestion.seen.validated == []


async def test_a_body_over_the_limit_is_413_before_it_is_read(ingestion: Ingestion) -> None:
    response = await ingestion.http.post(
        "/v1/events", content=b"[" + b" " * (9 * 1024 * 1024) + b"]"
    )
    assert response.status_code == 413
    assert "at most 8388608" in response.json()["detail"]


async def test_an_event_over_the_size_limit_is_rejected_over_http_with_its_size(
    ingestion: Ingestion,
) -> None:
    big = as_json(data_event("big-1", note="x", country="D" * 900))
    answer = (await ingestion.http.post("/v1/events", json=[big])).json()
    (result,) = answer["results"]
    assert result["status"] == "rejected"
    assert result["reasons"][0].startswith("message: ")
    assert result["reasons"][0].endswith("bytes, over the limit of 1024 bytes")


async def test_the_http_api_needs_the_token_when_one_is_set(ingestion: Ingestion) -> None:
    event = [as_json(data_event("t-1"))]
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong-token-0123456789"}):
        response = await ingestion.http.post("/v1/events", json=event, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert (await ingestion.http.get("/v1/stats", headers={"Authorization": ""})).status_code == 200
    assert ingestion.seen.validated == []


async def test_stats_show_specs_and_counters(ingestion: Ingestion) -> None:
    await publish(ingestion, DATA_TOPIC, data_event("s-1", colour="red"))
    stats = (await ingestion.http.get("/v1/stats")).json()
    assert stats["specs"] == {"shop": 1}
    assert stats["data"]["accepted"] == 1
    assert stats["data"]["unknown_fields"] == {"total": 1, "by_field": {"shop.colour": 1}}
    assert set(stats) == {"specs", "data", "outcomes"}
