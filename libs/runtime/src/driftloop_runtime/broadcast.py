"""Topics every instance of a service reads whole (no consumer group): specs, model lifecycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from opentelemetry import trace
from pydantic import ValidationError

from driftloop_contracts import Event
from driftloop_runtime.delivery import skip_decoding
from driftloop_runtime.kafka import client_options
from driftloop_runtime.records import Incoming, SourceRecord
from driftloop_runtime.service import ServiceParts
from driftloop_runtime.settings import RuntimeSettings
from driftloop_runtime.telemetry import consume_span

__all__ = [
    "read_at",
    "read_partitions",
    "read_topic",
    "replay_partitions",
    "scan_topic",
    "subscribe_broadcast",
]

E = TypeVar("E", bound=Event)
logger = logging.getLogger(__name__)


async def read_topic(settings: RuntimeSettings, topic: str, contract: type[E]) -> list[E]:
    """Every valid event on ``topic`` now, partition by partition, oldest first.

    Reads without a consumer group until the partitions are drained; records that do not match
    ``contract`` are logged and skipped (their consumers dead-letter them).
    """
    return [item.event async for chunk in scan_topic(settings, topic, contract) for item in chunk]


async def scan_topic(
    settings: RuntimeSettings, topic: str, contract: type[E], *, containing: bytes | None = None
) -> AsyncIterator[list[Incoming[E]]]:
    """``read_topic`` a fetched chunk at a time, with where each event was read; with
    ``containing``, only records whose bytes contain it are parsed (a cheap filter for finding
    one event in a long topic)."""
    async with _reader(settings) as consumer:
        await consumer.topics()  # loads the metadata partitions_for_topic reads
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return
        # The end offsets are a floor, not the end: the embedded broker reports a partition's
        # end as its last record batch's base offset + 1. So read on until a fetch comes back
        # empty at or past them.
        end = await consumer.end_offsets(partitions)
        async for chunk in _chunks(consumer, contract, end, past_end=True, containing=containing):
            yield chunk


async def replay_partitions(
    settings: RuntimeSettings, contract: type[E], until: Mapping[TopicPartition, int]
) -> AsyncIterator[list[Incoming[E]]]:
    """The valid events of each partition from its start up to (not including) its offset in
    ``until``, in offset order per partition, a fetched chunk at a time: what a service replays
    to rebuild its state, in bounded memory and without holding the event loop."""
    wanted = {tp: offset for tp, offset in until.items() if offset > 0}
    async with _reader(settings) as consumer:
        async for chunk in _chunks(consumer, contract, wanted, past_end=False):
            yield chunk


async def read_partitions(
    settings: RuntimeSettings, contract: type[E], until: Mapping[TopicPartition, int]
) -> list[Incoming[E]]:
    """``replay_partitions``, collected in one list."""
    return [item async for chunk in replay_partitions(settings, contract, until) for item in chunk]


async def read_at(
    settings: RuntimeSettings, contract: type[E], partition: TopicPartition, offset: int
) -> Incoming[E] | None:
    """The event at ``offset`` of ``partition``; ``None`` if there is none there (deleted,
    not yet written, or not a valid ``contract``)."""
    async with _reader(settings) as consumer:
        consumer.assign([partition])
        consumer.seek(partition, offset)
        for _ in range(_READ_AT_ATTEMPTS):
            records = (await consumer.getmany(partition, timeout_ms=300)).get(partition, [])
            for record in records:
                if record.offset == offset and (event := _parse(contract, record.value)):
                    return Incoming(event, SourceRecord.of(record))
                if record.offset >= offset:
                    return None
    return None


_READ_AT_ATTEMPTS = 5
"""Empty fetches ``read_at`` tries before it decides the offset holds nothing."""


@asynccontextmanager
async def _reader(settings: RuntimeSettings) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def _chunks(
    consumer: AIOKafkaConsumer,
    contract: type[E],
    end: Mapping[TopicPartition, int],
    *,
    past_end: bool,
    containing: bytes | None = None,
) -> AsyncIterator[list[Incoming[E]]]:
    """Read ``end``'s partitions from their start: up to ``end`` exactly, or (``past_end``) on
    until a fetch at or past ``end`` returns nothing; one list per fetch."""
    if not end:
        return
    partitions = list(end)
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    while True:
        behind = [await consumer.position(tp) < end[tp] for tp in partitions]
        if not any(behind) and not past_end:
            return
        fetched = await consumer.getmany(*partitions, timeout_ms=300)
        if not fetched and not any(behind):
            return
        yield [
            Incoming(event, SourceRecord.of(record))
            for tp, records in fetched.items()
            for record in records
            if (past_end or record.offset < end[tp])
            and (containing is None or containing in (record.value or b""))
            and (event := _parse(contract, record.value)) is not None
        ]


def subscribe_broadcast(
    parts: ServiceParts,
    *,
    topic: str,
    contract: type[E],
    handler: Callable[[E], Awaitable[None]],
) -> None:
    """Hand every event of ``topic`` to ``handler`` in every instance of the service.

    No consumer group, so nothing is committed: each start reads the topic from its beginning
    again, which the handler must take in its stride (apply the newest, ignore the rest).
    """
    tracer = trace.get_tracer("driftloop.consume", tracer_provider=parts.tracer_provider)

    @parts.broker.subscriber(
        topic,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=parts.settings.kafka_control_fetch_max_wait_ms,
        ack_policy=AckPolicy.MANUAL,
        decoder=skip_decoding,
    )
    async def on_event(message: KafkaMessage) -> None:
        raw = message.raw_message
        if isinstance(raw, tuple | list):
            return
        source = SourceRecord.of(raw)
        # one event, handled in its producer's trace: a swap shows under the promotion
        with consume_span(tracer, topic, None, [source], parent=source.trace_context()):
            if (event := _parse(contract, source.value)) is not None:
                await handler(event)


def _parse(contract: type[E], value: bytes | None) -> E | None:
    try:
        return contract.model_validate_json(value or b"")
    except ValidationError as error:
        logger.error("skipped a record that is not a %s: %s", contract.__name__, error)
        return None
