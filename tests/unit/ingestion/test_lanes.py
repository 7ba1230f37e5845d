"""The Kafka batch handler over the lanes: judging, de-duplication and counters, without a broker.

A batch goes through the handler, then (as the runtime does) its outputs are "published" by
calling ``Intake.on_published``; only then are their ids remembered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pytest

from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    OUTCOMES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    DataEvent,
    DataValidated,
    Event,
)
from driftloop_ingestion.handlers import on_raw_events
from driftloop_ingestion.lanes import Intake
from driftloop_runtime import (
    BatchResult,
    Incoming,
    Outgoing,
    Rejection,
    SourceRecord,
    SpecCatalog,
    dead_letter,
)
from tests.unit.ingestion.helpers import applied, data_event, outcome_event

pytestmark = pytest.mark.unit

E = TypeVar("E", bound=Event)


def intake(*, capacity: int = 100, max_bytes: int = 4096) -> Intake:
    catalog = SpecCatalog()
    catalog.apply(applied(3))
    return Intake(catalog, max_event_bytes=max_bytes, dedup_capacity=capacity)


def incoming(events: Sequence[E], topic: str = DATA_TOPIC) -> list[Incoming[E]]:
    return [
        Incoming(event, SourceRecord(topic, 0, offset, b"k", event.model_dump_json().encode()))
        for offset, event in enumerate(events)
    ]


async def run_data(target: Intake, *events: DataEvent, publish: bool = True) -> BatchResult:
    result = await on_raw_events(target.data)(incoming(events))
    if publish:
        published = [*result.outputs, *(_letter(r) for r in result.rejections)]
        target.on_published(published)
    return result


def _letter(rejection: Rejection) -> Outgoing:
    return dead_letter(rejection, service="ingestion", consumer_group="ingestion")


def ids(result: BatchResult) -> list[str]:
    return [o.event.event_id for o in result.outputs]


async def test_valid_events_are_published_validated_keyed_by_entity() -> None:
    target = intake()
    result = await run_data(target, data_event("e-1"), data_event("e-2", entity_id="card-9"))
    assert ids(result) == ["data.validated:e-1", "data.validated:e-2"]
    assert [(o.topic, o.key) for o in result.outputs] == [
        (DATA_VALIDATED_TOPIC, "card-1"),
        (DATA_VALIDATED_TOPIC, "card-9"),
    ]
    first = result.outputs[0].event
    assert isinstance(first, DataValidated)
    assert first.spec_version == 3
    assert result.outputs[0].cause is not None
    assert (first.source_topic, first.source_offset) == (DATA_TOPIC, 0)


async def test_invalid_events_become_rejections_with_every_reason() -> None:
    target = intake()
    bad = data_event("e-bad", amount=-1, drop=("country",))
    result = await run_data(target, data_event("e-1"), bad, data_event("e-x", dataset="nope"))
    assert ids(result) == ["data.validated:e-1"]
    reasons = [(r.event_id, r.error_type, r.reason) for r in result.rejections]
    assert reasons == [
        ("e-bad", "spec", "amount: -1 is below the minimum 0.0; country: missing (required)"),
        ("e-x", "unknown_dataset", 'dataset: no spec is applied for "nope"'),
    ]


async def test_a_message_over_the_size_limit_is_rejected_with_its_size() -> None:
    target = intake(max_bytes=300)
    big = data_event("e-big", country="D" * 200)
    result = await run_data(target, big)
    (rejection,) = result.rejections
    size = len(big.model_dump_json().encode())
    assert rejection.error_type == "too_large"
    assert rejection.reason == f"message: {size} bytes, over the limit of 300 bytes"


async def test_a_duplicate_in_the_same_batch_or_a_later_one_is_dropped_and_counted() -> None:
    target = intake()
    first = await run_data(target, data_event("e-1"), data_event("e-1"), data_event("e-2"))
    assert ids(first) == ["data.validated:e-1", "data.validated:e-2"]
    later = await run_data(target, data_event("e-2"), data_event("e-3"))
    assert ids(later) == ["data.validated:e-3"]
    assert not later.rejections
    stats = target.stats()["data"]
    assert (stats["accepted"], stats["duplicates"]) == (3, 2)


async def test_an_event_is_remembered_only_once_its_validated_event_was_published() -> None:
    target = intake()
    failed = await run_data(target, data_event("e-1"), publish=False)  # publishing failed
    again = await run_data(target, data_event("e-1"))  # the batch is delivered again
    assert ids(failed) == ids(again) == ["data.validated:e-1"]
    assert "e-1" in target.data.seen


async def test_a_rejected_id_is_not_remembered_so_a_fixed_event_with_it_passes() -> None:
    target = intake()
    rejected = await run_data(target, data_event("e-1", amount=-1))
    fixed = await run_data(target, data_event("e-1"))
    assert len(rejected.rejections) == 1
    assert ids(fixed) == ["data.validated:e-1"]


async def test_data_and_outcomes_are_de_duplicated_separately() -> None:
    target = intake()
    await run_data(target, data_event("same-id"))
    handler = on_raw_events(target.outcomes)
    result = await handler(incoming([outcome_event("same-id")], OUTCOMES_TOPIC))
    assert [(o.topic, o.event.event_id) for o in result.outputs] == [
        (OUTCOMES_VALIDATED_TOPIC, "outcome.validated:same-id")
    ]
    target.on_published(result.outputs)
    assert "same-id" in target.outcomes.seen
    assert target.stats()["outcomes"]["accepted"] == 1


async def test_the_memory_of_ids_is_bounded() -> None:
    target = intake(capacity=2)
    await run_data(target, data_event("e-1"), data_event("e-2"), data_event("e-3"))
    assert len(target.data.seen) == 2
    assert "e-1" not in target.data.seen  # forgotten: a duplicate this late passes again
    assert ids(await run_data(target, data_event("e-1"))) == ["data.validated:e-1"]


async def test_unknown_fields_are_counted_by_dataset_and_field() -> None:
    target = intake()
    result = await run_data(target, data_event("e-1", colour="red"), data_event("e-2", colour="x"))
    assert len(result.outputs) == 2
    unknown = target.stats()["data"]["unknown_fields"]
    assert unknown == {"total": 2, "by_field": {"shop.colour": 2}}


async def test_stats_count_dead_letters_by_error_type_and_problems_by_kind() -> None:
    target = intake()
    await run_data(
        target,
        data_event("e-1", amount=-1),
        data_event("e-2", amount=-2, items=0),
        data_event("e-3", dataset="nope"),
    )
    stats = target.stats()
    assert stats["specs"] == {"shop": 3}
    data = stats["data"]
    assert data["rejected"] == 3
    assert data["dead_lettered"] == {"spec": 2, "unknown_dataset": 1}
    assert data["problems"] == {"out_of_bounds": 2, "unknown_dataset": 1}
    assert stats["outcomes"]["rejected"] == 0
