"""The feature service's batch handler, with the log reads replaced by fakes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import TopicPartition
from pydantic import JsonValue

from driftloop_contracts import (
    FEATURES_TOPIC,
    DataValidated,
    FeaturesComputed,
    SpecApplied,
    spec_digest,
)
from driftloop_feature import online
from driftloop_feature.online import OnlineFeatures
from driftloop_features import EntityWindows, compute_features
from driftloop_runtime import Incoming, RuntimeSettings, SourceRecord, SpecCatalog
from tests.integration.feature.stream import START, fraud_spec, transactions

pytestmark = pytest.mark.unit


def incoming(events: list[Any], partition: int = 0) -> list[Incoming[Any]]:
    return [
        Incoming(e, SourceRecord("driftloop.data.validated.v1", partition, n, None, b""))
        for n, e in enumerate(events)
    ]


def service(catalog: SpecCatalog) -> OnlineFeatures:
    return OnlineFeatures(catalog, RuntimeSettings(), max_entities=100)


def with_lateness(applied: SpecApplied, events: str, version: int = 1) -> SpecApplied:
    """``applied``'s spec with ``lateness.events`` changed, as version ``version``."""
    document: dict[str, JsonValue] = {**applied.spec, "lateness": {"events": events}}
    return applied.model_copy(
        update={"spec": document, "digest": spec_digest(document), "spec_version": version}
    )


def one_card_at(*seconds: int) -> list[DataValidated]:
    """Events of one card at these offsets from the stream's start (each offset its own event
    id), in this arrival order."""
    events = transactions("cards", len(seconds), cards=1)
    return [
        e.model_copy(
            update={"occurred_at": START + timedelta(seconds=s), "event_id": f"validated:at-{s}"}
        )
        for e, s in zip(events, seconds, strict=True)
    ]


async def test_a_spec_the_live_follower_has_not_delivered_yet_is_read_from_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, applied = fraud_spec("cards")

    async def specs_on_the_log(*_: object) -> list[SpecApplied]:
        return [applied]

    monkeypatch.setattr(online, "read_topic", specs_on_the_log)
    result = await service(SpecCatalog()).handle(incoming(transactions("cards", 5, cards=2)))
    assert result.rejections == []
    assert len(result.outputs) == 5


async def test_an_event_of_a_dataset_without_any_spec_is_dead_lettered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_specs(*_: object) -> list[SpecApplied]:
        return []

    monkeypatch.setattr(online, "read_topic", no_specs)
    result = await service(SpecCatalog()).handle(incoming(transactions("cards", 3, cards=2)))
    assert result.outputs == []
    assert [r.error_type for r in result.rejections] == ["unknown_dataset"] * 3
    assert "no spec for dataset 'cards'" in result.rejections[0].reason


async def test_an_assigned_partition_is_rebuilt_from_the_log_before_its_next_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec, applied = fraud_spec("cards")
    stream = transactions("cards", 40, cards=3)
    replayed: list[Mapping[TopicPartition, int]] = []

    async def first_half(_: object, __: object, until: Mapping[TopicPartition, int]) -> Any:
        replayed.append(dict(until))
        yield incoming(stream[:12])  # a chunk per fetch
        yield incoming(stream[12:20])

    monkeypatch.setattr(online, "replay_partitions", first_half)
    catalog = SpecCatalog()
    catalog.apply(applied)
    features = service(catalog)
    await features.assigned({TopicPartition("driftloop.data.validated.v1", 0): 20})
    result = await features.handle(incoming(stream[20:]))

    expected = compute_features(spec, stream, EntityWindows(lateness=spec.lateness.events)).values[
        20:
    ]
    assert [o.event.values for o in result.outputs] == expected.tolist()  # type: ignore[attr-defined]
    assert replayed == [{TopicPartition("driftloop.data.validated.v1", 0): 20}]
    assert features.counts["replayed"] == 20


def test_each_vector_is_a_valid_features_computed_event_with_its_lineage() -> None:
    _, applied = fraud_spec("cards")
    catalog = SpecCatalog()
    catalog.apply(applied)
    batch = incoming(transactions("cards", 30, cards=4), partition=2)
    result = service(catalog).compute(batch)
    assert len(result.outputs) == len(batch)
    for output, item in zip(result.outputs, batch, strict=True):
        vector, event = output.event, item.event
        # built without validation: it must still be what the contract accepts
        assert FeaturesComputed.model_validate_json(vector.model_dump_json()) == vector
        assert isinstance(vector, FeaturesComputed)
        assert (output.topic, output.key, output.cause) == (
            FEATURES_TOPIC,
            event.entity_id,
            item.source,
        )
        assert (vector.causation_id, vector.subject_event_id, vector.label) == (
            event.event_id,
            event.subject_event_id,
            event.label,
        )
        assert (vector.source_partition, vector.source_offset) == (2, item.source.offset)


def test_the_windows_place_events_within_their_specs_lateness() -> None:
    _, applied = fraud_spec("cards")
    catalog = SpecCatalog()
    catalog.apply(with_lateness(applied, "1m"))
    features = service(catalog)
    # 50 s behind the newest: late; 120 s behind: too late (it would be late within the 5m default)
    result = features.compute(incoming(one_card_at(0, 600, 550, 480)))
    assert len(result.outputs) == 4
    assert (features.counts["late"], features.counts["too_late"]) == (1, 1)


def test_a_new_spec_version_changes_the_lateness_of_the_windows_held() -> None:
    _, applied = fraud_spec("cards")
    catalog = SpecCatalog()
    catalog.apply(applied)  # the default lateness, 5m
    features = service(catalog)
    features.compute(incoming(one_card_at(0, 600, 480)))
    assert (features.counts["late"], features.counts["too_late"]) == (1, 0)
    catalog.apply(with_lateness(applied, "1m", version=2))
    features.compute(incoming(one_card_at(470)))  # 130 s behind the card's newest event
    assert (features.counts["late"], features.counts["too_late"]) == (1, 1)
