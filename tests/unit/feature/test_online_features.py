"""The feature service's batch handler, with the log reads replaced by fakes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from aiokafka import TopicPartition

from driftloop_contracts import SpecApplied
from driftloop_feature import online
from driftloop_feature.online import OnlineFeatures
from driftloop_features import EntityWindows, compute_features
from driftloop_runtime import Incoming, RuntimeSettings, SourceRecord, SpecCatalog
from tests.integration.feature.stream import fraud_spec, transactions

pytestmark = pytest.mark.unit


def incoming(events: list[Any], partition: int = 0) -> list[Incoming[Any]]:
    return [
        Incoming(e, SourceRecord("driftloop.data.validated.v1", partition, n, None, b""))
        for n, e in enumerate(events)
    ]


def service(catalog: SpecCatalog) -> OnlineFeatures:
    return OnlineFeatures(catalog, RuntimeSettings(), max_entities=100, lateness_s=300)


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

    expected = compute_features(spec, stream, EntityWindows()).values[20:]
    assert [o.event.values for o in result.outputs] == expected.tolist()  # type: ignore[attr-defined]
    assert replayed == [{TopicPartition("driftloop.data.validated.v1", 0): 20}]
    assert features.counts["replayed"] == 20
