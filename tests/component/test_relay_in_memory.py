"""The runtime's subscriber wiring through FastStream's in-memory broker (no Kafka needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker

from driftloop_contracts import DEAD_LETTER_TOPIC, DataEvent, DeadLettered
from driftloop_runtime import BrokerEventPublisher
from tests.integration.apps.relay import RelaySettings, wire

pytestmark = pytest.mark.component


async def test_a_published_event_is_relayed_and_a_bad_one_dead_lettered(tmp_path: Path) -> None:
    relay = wire(
        RelaySettings(
            input_topic="in",
            output_topic="out",
            group_id="relay",
            traces_file=tmp_path / "traces.jsonl",
        ),
        publisher=BrokerEventPublisher,  # what TestKafkaBroker intercepts
    )
    relayed: list[DataEvent] = []
    letters: list[DeadLettered] = []

    @relay.broker.subscriber("out")
    async def on_out(event: DataEvent) -> None:
        relayed.append(event)

    @relay.broker.subscriber(DEAD_LETTER_TOPIC)
    async def on_dead(letter: DeadLettered) -> None:
        letters.append(letter)

    event = DataEvent(
        event_id="evt-1",
        dataset="relay",
        entity_id="card-1",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        fields={"amount": 21},
    )
    async with TestKafkaBroker(relay.broker) as broker:
        await broker.publish(event.model_dump_json().encode(), "in", key=b"card-1")
        await broker.publish(b'{"event_id": "evt-2"}', "in", key=b"card-2")

    assert [(e.event_id, e.fields["amount"]) for e in relayed] == [("evt-1.x2", 42)]
    assert len(letters) == 1
    assert letters[0].original_key == "card-2"
    assert letters[0].error_type == "contract"
    assert letters[0].original_value == b'{"event_id": "evt-2"}'
