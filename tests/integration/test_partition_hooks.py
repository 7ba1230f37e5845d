"""Per-partition hooks: where a member resumes, and reading a partition back up to there."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from driftloop_contracts import DataEvent
from driftloop_runtime import (
    BatchResult,
    Incoming,
    RuntimeSettings,
    ServiceParts,
    read_partitions,
    subscribe_batches,
)
from tests.integration.kafka_helpers import new_topics, produce, unique
from tests.integration.test_runtime_delivery import data_event, message

pytestmark = pytest.mark.integration


class Recorder:
    """Partition hooks and a batch handler that remember what they were told."""

    def __init__(self) -> None:
        self.resume_from: dict[TopicPartition, int] = {}
        self.handled: list[str] = []

    async def assigned(self, resume_from: Mapping[TopicPartition, int]) -> None:
        self.resume_from |= resume_from

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        for partition in partitions:
            self.resume_from.pop(partition, None)

    async def handle(self, batch: Sequence[Incoming[DataEvent]]) -> BatchResult:
        self.handled += [item.event.event_id for item in batch]
        return BatchResult()


async def consume_until(parts: ServiceParts, recorder: Recorder, count: int) -> None:
    await parts.start()
    try:
        for _ in range(300):
            if len(recorder.handled) >= count:
                break
            await asyncio.sleep(0.1)
    finally:
        await parts.stop()


async def test_a_new_member_hears_where_it_resumes_and_can_replay_up_to_there(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    topic, group = unique("hooks"), unique("hooks")
    await new_topics(bootstrap, topic)
    settings = RuntimeSettings(kafka_bootstrap=bootstrap, traces_file=tmp_path / "t.jsonl")
    await produce(bootstrap, topic, [message(data_event(n)) for n in range(5)])

    first = Recorder()
    parts = ServiceParts("hooks", settings)
    subscribe_batches(
        parts,
        topic=topic,
        group_id=group,
        contract=DataEvent,
        handler=first.handle,
        partitions=first,
    )
    await consume_until(parts, first, 5)
    partition = TopicPartition(topic, 0)
    assert first.resume_from == {partition: 0}

    await produce(bootstrap, topic, [message(data_event(n)) for n in range(5, 8)])
    second = Recorder()
    parts = ServiceParts("hooks", settings)
    subscribe_batches(
        parts,
        topic=topic,
        group_id=group,
        contract=DataEvent,
        handler=second.handle,
        partitions=second,
    )
    await consume_until(parts, second, 3)
    assert second.resume_from == {partition: 5}
    assert second.handled == ["evt-5", "evt-6", "evt-7"]

    replayed = await read_partitions(settings, DataEvent, second.resume_from)
    assert [item.event.event_id for item in replayed] == [f"evt-{n}" for n in range(5)]
    assert [item.source.offset for item in replayed] == list(range(5))
