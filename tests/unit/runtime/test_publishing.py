"""How the publisher groups, traces and partitions a batch's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry.context import Context

from driftloop_contracts import DataEvent
from driftloop_runtime import Outgoing
from driftloop_runtime.publishing import batch_attributes, partition_of, trace_groups

pytestmark = pytest.mark.unit


def event(n: int, cause: str | None = None) -> DataEvent:
    return DataEvent(
        event_id=f"evt-{n}",
        causation_id=cause,
        dataset="cards",
        entity_id=f"card-{n}",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        fields={"amount": 1.0},
    )


def test_a_batch_is_grouped_by_topic_and_trace_context_in_the_order_it_came() -> None:
    first, second = Context(), Context()
    outgoing = [
        Outgoing("a", "k", event(1)),
        Outgoing("b", "k", event(2)),
        Outgoing("a", "k", event(3)),
        Outgoing("a", "k", event(4), context=first),
        Outgoing("a", "k", event(5), context=second),
        Outgoing("a", "k", event(6), context=first),
    ]
    groups = trace_groups(outgoing)
    assert [(topic, [o.event.event_id for o in items]) for topic, _, items in groups] == [
        ("a", ["evt-1", "evt-3"]),
        ("b", ["evt-2"]),
        ("a", ["evt-4", "evt-6"]),
        ("a", ["evt-5"]),
    ]
    assert [parent for _, parent, _ in groups] == [None, None, first, second]


def test_a_publish_span_lists_the_events_it_sent_and_what_they_descend_from() -> None:
    items = [Outgoing("out", "k", event(1, cause="raw-1")), Outgoing("out", "k", event(2))]
    attributes = batch_attributes("out", items)
    assert attributes["messaging.destination.name"] == "out"
    assert attributes["messaging.batch.message_count"] == 2
    assert attributes["driftloop.event_type"] == "data"
    assert attributes["driftloop.event_ids"] == ["evt-1", "evt-2"]
    assert attributes["driftloop.causation_ids"] == ["raw-1", ""]
    assert "driftloop.causation_ids" not in batch_attributes("out", items[1:])


def test_events_go_to_the_partition_the_default_partitioner_picks_for_their_key() -> None:
    partitions = [0, 1, 2, 3, 4, 5]
    keys = [f"card-{n}".encode() for n in range(500)] + [b"", "ünïcode".encode()]
    expected = [DefaultPartitioner()(key, partitions, partitions) for key in keys]
    assert [partition_of(key, partitions) for key in keys] == expected
    assert len(set(expected)) == len(partitions)
