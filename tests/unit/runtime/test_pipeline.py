"""The batch pipeline's decisions, with a recording publisher instead of Kafka."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pymongo.errors import AutoReconnect

from driftloop_contracts import DEAD_LETTER_TOPIC, DataEvent, DeadLettered
from driftloop_runtime import BatchPipeline, BatchResult, Incoming, Outgoing, SourceRecord
from driftloop_runtime.publishing import MAX_ORIGINAL_KEPT, dead_letter
from driftloop_runtime.records import Rejection

pytestmark = pytest.mark.unit


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Outgoing] = []

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        self.published += outgoing


def record(offset: int, value: bytes, key: bytes | None = b"card-1") -> SourceRecord:
    return SourceRecord(topic="in", partition=2, offset=offset, key=key, value=value)


def event_record(offset: int, **fields: float | bool) -> SourceRecord:
    event = DataEvent(
        event_id=f"evt-{offset}",
        dataset="cards",
        entity_id="card-1",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        fields=dict(fields),
    )
    return record(offset, event.model_dump_json().encode())


def echo_unless_poisoned(calls: list[int]):  # type: ignore[no-untyped-def]
    async def handle(batch: Sequence[Incoming[DataEvent]]) -> BatchResult:
        calls.append(len(batch))
        if any("poison" in item.event.fields for item in batch):
            raise ValueError("poisoned")
        return BatchResult(
            outputs=[Outgoing("out", i.event.entity_id, i.event, i.source) for i in batch]
        )

    return handle


def pipeline(handler, publisher: RecordingPublisher) -> BatchPipeline[DataEvent]:  # type: ignore[no-untyped-def]
    return BatchPipeline(
        contract=DataEvent,
        handler=handler,
        publisher=publisher,  # type: ignore[arg-type]
        service="relay",
        consumer_group="relay",
        transient_backoff_s=0,
    )


def letters(publisher: RecordingPublisher) -> list[DeadLettered]:
    return [o.event for o in publisher.published if isinstance(o.event, DeadLettered)]


async def test_contract_breakers_are_dead_lettered_and_the_rest_handled_in_one_call() -> None:
    publisher, calls = RecordingPublisher(), list[int]()
    records = [event_record(0, amount=1), record(1, b"{not json"), event_record(2, amount=2)]
    await pipeline(echo_unless_poisoned(calls), publisher).process(records)
    assert calls == [2]
    assert [o.event.event_id for o in publisher.published if o.topic == "out"] == ["evt-0", "evt-2"]
    [letter] = letters(publisher)
    assert (letter.source_offset, letter.original_value, letter.error_type) == (
        1,
        b"{not json",
        "contract",
    )
    assert letter.reason.startswith("does not match DataEvent: 1 validation error")


async def test_a_failing_event_is_isolated_by_splitting_the_batch() -> None:
    publisher, calls = RecordingPublisher(), list[int]()
    records = [event_record(n, amount=n) for n in range(8)]
    records[5] = event_record(5, poison=True)
    await pipeline(echo_unless_poisoned(calls), publisher).process(records)
    handled = [o.event.event_id for o in publisher.published if o.topic == "out"]
    assert handled == [f"evt-{n}" for n in range(8) if n != 5]
    [letter] = letters(publisher)
    assert letter.causation_id == "evt-5"
    assert letter.reason == "handler failed: ValueError: poisoned"
    assert calls[0] == 8
    assert len(calls) < 2 * 8


async def test_infrastructure_errors_are_raised_so_the_batch_is_not_committed() -> None:
    publisher = RecordingPublisher()

    async def store_down(batch: Sequence[Incoming[DataEvent]]) -> BatchResult:
        raise AutoReconnect("connection refused")

    with pytest.raises(AutoReconnect):
        await pipeline(store_down, publisher).process([event_record(0, amount=1)])
    assert publisher.published == []


def test_dead_letter_is_deterministic_keyed_and_bounded() -> None:
    huge = record(7, b"x" * (MAX_ORIGINAL_KEPT + 10), key=b"k" * 5000)
    first = dead_letter(Rejection(huge, "r" * 10_000), service="svc", consumer_group="g")
    again = dead_letter(Rejection(huge, "r" * 10_000), service="svc", consumer_group="g")
    other_group = dead_letter(Rejection(huge, "r"), service="svc", consumer_group="h")
    letter = first.event
    assert isinstance(letter, DeadLettered)
    assert first.topic == DEAD_LETTER_TOPIC
    assert letter.event_id == again.event.event_id != other_group.event.event_id
    assert len(letter.original_value) == MAX_ORIGINAL_KEPT
    assert letter.reason.endswith(
        f"(original truncated to {MAX_ORIGINAL_KEPT} of {MAX_ORIGINAL_KEPT + 10} bytes)"
    )
    assert len(first.key) == 1024
    assert DeadLettered.model_validate_json(letter.model_dump_json()) == letter
