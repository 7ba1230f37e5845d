"""Publishing events to Kafka with their trace context, and turning rejections into dead letters."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, TracerProvider
from opentelemetry.util.types import AttributeValue

from driftloop_contracts import DEAD_LETTER_TOPIC, DeadLettered
from driftloop_contracts.deadletter import MAX_ORIGINAL_BYTES
from driftloop_runtime.kafka import client_options
from driftloop_runtime.records import Outgoing, Rejection, SourceRecord
from driftloop_runtime.settings import RuntimeSettings

__all__ = [
    "BrokerEventPublisher",
    "EventPublisher",
    "KafkaEventPublisher",
    "batch_attributes",
    "dead_letter",
    "dead_letter_id",
    "partition_of",
    "trace_groups",
]

CONTENT_TYPE, JSON = "content-type", b"application/json"

# What a dead letter can hold (its contract's bounds); past them the original is truncated and
# the reason says so, since a dead letter that cannot be built would stop the consumer.
MAX_REASON_CHARS = 2_000
MAX_KEY_CHARS = 1_024
# Base64 grows the original by a third: 512 KiB keeps a dead letter inside Kafka's default
# 1 MiB message size (the contract itself allows up to MAX_ORIGINAL_BYTES).
MAX_ORIGINAL_KEPT = min(512 * 1024, MAX_ORIGINAL_BYTES)


class EventPublisher(Protocol):
    """Where a service's outputs go: publishes a batch of events and returns once the broker
    has acknowledged all of them."""

    async def start(self) -> None:
        """Connect (before the first batch)."""

    async def stop(self) -> None:
        """Flush what is pending and disconnect (after the last batch)."""

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        """Send every event, keyed and traced; return when all are acknowledged."""


class KafkaEventPublisher:
    """Publishes with aiokafka's producer directly, a record batch per partition, and traces
    per batch as OpenTelemetry's messaging conventions describe for batches: one producer span
    per topic and trace parent, listing the ids of the events it sent, with every message's
    ``traceparent`` pointing at it. No per-event span, ``send`` call or header building: those
    were most of a hot-path service's cost (see ``make bench``).
    """

    def __init__(
        self,
        settings: RuntimeSettings,
        *,
        client_id: str,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        """A producer for ``settings``' brokers, batching by linger and batch bytes."""
        self._settings = settings
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._tracer = trace.get_tracer("driftloop.publish", tracer_provider=tracer_provider)

    async def start(self) -> None:
        """Connect the producer (aiokafka wants the running event loop for that)."""
        settings = self._settings
        self._producer = AIOKafkaProducer(
            **client_options(settings),
            client_id=self._client_id,
            acks="all",
            linger_ms=settings.kafka_linger_ms,
            max_batch_size=settings.kafka_max_batch_bytes,
            enable_idempotence=False,  # see create_broker
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        """Send every event, keyed and traced, then wait for all acknowledgements."""
        if self._producer is None:
            raise RuntimeError("KafkaEventPublisher.publish before start()")
        pending: list[asyncio.Future[object]] = []
        for topic, parent, items in trace_groups(outgoing):
            pending += await self._send_traced(self._producer, topic, parent, items)
        await asyncio.gather(*pending)

    async def _send_traced(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        parent: Context | None,
        items: Sequence[Outgoing],
    ) -> list[asyncio.Future[object]]:
        span = self._tracer.start_span(
            f"{topic} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes=batch_attributes(topic, items),
        )
        try:
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            headers = [(CONTENT_TYPE, JSON), *((k, v.encode()) for k, v in carrier.items())]
            return await _send_per_partition(producer, topic, items, headers)
        finally:
            span.end()


def trace_groups(
    outgoing: Sequence[Outgoing],
) -> list[tuple[str, Context | None, list[Outgoing]]]:
    """The events by topic and the trace context their publish span continues (``None``: the
    current one, the consumed batch's), in the order they came."""
    groups: dict[tuple[str, int], tuple[str, Context | None, list[Outgoing]]] = {}
    for item in outgoing:
        group = groups.setdefault((item.topic, id(item.context)), (item.topic, item.context, []))
        group[2].append(item)
    return list(groups.values())


def batch_attributes(topic: str, items: Sequence[Outgoing]) -> dict[str, AttributeValue]:
    """The attributes of a publish span: where it sent, and the ids of the events it sent and
    of the ones they descend from (what ``driftloop trace EVENT_ID`` follows)."""
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.batch.message_count": len(items),
        "driftloop.event_type": items[0].event.event_type,
        "driftloop.event_ids": [item.event.event_id for item in items],
    }
    causes = [item.event.causation_id or "" for item in items]
    if any(causes):
        attributes["driftloop.causation_ids"] = causes
    return attributes


async def _send_per_partition(
    producer: AIOKafkaProducer,
    topic: str,
    items: Sequence[Outgoing],
    headers: list[tuple[str, bytes]],
) -> list[asyncio.Future[object]]:
    """Append the events to one record batch per partition (the key's, as the producer's
    default partitioner picks it) and submit each batch when it is full or the events end."""
    partitions = sorted(await producer.partitions_for(topic))
    open_batches: dict[int, Any] = {}
    sent: list[asyncio.Future[object]] = []
    for item in items:
        key, value = item.key.encode(), item.event.model_dump_json().encode()
        partition = partition_of(key, partitions)
        batch = open_batches.get(partition)
        if batch is not None:
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is not None:
                continue
            sent.append(await producer.send_batch(batch, topic, partition=partition))  # full
        batch = open_batches[partition] = producer.create_batch()
        # a batch takes its first record, however large
        batch.append(key=key, value=value, timestamp=None, headers=headers)
    for partition, batch in open_batches.items():
        sent.append(await producer.send_batch(batch, topic, partition=partition))
    return sent


def partition_of(key: bytes, partitions: Sequence[int]) -> int:
    """The partition the Java client and aiokafka's default partitioner pick for ``key``."""
    return partitions[_key_hash(key) % len(partitions)]


@functools.lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    # murmur2 is pure Python in aiokafka, and entity keys repeat
    return int(murmur2(key)) & 0x7FFFFFFF


class BrokerEventPublisher:
    """Publishes through a FastStream broker (and its telemetry middleware): what FastStream's
    in-memory ``TestKafkaBroker`` intercepts, for component tests of a service's handlers."""

    def __init__(self, broker: KafkaBroker) -> None:
        """Publish through ``broker``, which the service starts and stops itself."""
        self._broker = broker

    async def start(self) -> None:
        """Nothing to connect: the broker is the service's own."""

    async def stop(self) -> None:
        """Nothing to close: the broker is the service's own."""

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        """Send every event in its trace context (the current one unless it names another)."""
        for item in outgoing:
            token = otel_context.attach(item.context) if item.context is not None else None
            try:
                await self._broker.publish(
                    item.event.model_dump_json().encode(),
                    item.topic,
                    key=item.key.encode(),
                    headers={"content-type": "application/json"},
                )
            finally:
                if token is not None:
                    otel_context.detach(token)


def dead_letter(rejection: Rejection, *, service: str, consumer_group: str) -> Outgoing:
    """The dead-letter event for ``rejection``: its reason, original bytes and source position."""
    source = rejection.source
    value, note = source.value, ""
    if len(value) > MAX_ORIGINAL_KEPT:
        note = f" (original truncated to {MAX_ORIGINAL_KEPT} of {len(value)} bytes)"
        value = value[:MAX_ORIGINAL_KEPT]
    reason = rejection.reason[: MAX_REASON_CHARS - len(note)] + note
    key = source.key.decode("utf-8", "replace")[:MAX_KEY_CHARS] if source.key is not None else None
    letter = DeadLettered(
        event_id=dead_letter_id(consumer_group, source),
        occurred_at=datetime.now(UTC),
        producer=service,
        causation_id=rejection.event_id,
        reason=reason,
        error_type=rejection.error_type,
        original_value=value,
        original_key=key,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
        consumer_group=consumer_group,
    )
    return Outgoing(topic=DEAD_LETTER_TOPIC, key=key or source.topic, event=letter, cause=source)


def dead_letter_id(consumer_group: str, source: SourceRecord) -> str:
    """The same id every time one group dead-letters one record, so a replay is de-duplicated."""
    position = f"{consumer_group}|{source.topic}|{source.partition}|{source.offset}"
    return "dlq-" + hashlib.sha256(position.encode()).hexdigest()[:40]
