"""Publishing events to Kafka with their trace context, and turning rejections into dead letters."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, TracerProvider

from driftloop_contracts import DEAD_LETTER_TOPIC, DeadLettered
from driftloop_contracts.deadletter import MAX_ORIGINAL_BYTES
from driftloop_runtime.kafka import client_options
from driftloop_runtime.records import Outgoing, Rejection, SourceRecord
from driftloop_runtime.settings import RuntimeSettings

__all__ = [
    "BrokerEventPublisher",
    "EventPublisher",
    "KafkaEventPublisher",
    "dead_letter",
    "dead_letter_id",
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
    """Publishes with aiokafka's producer directly: one producer span per event, continuing the
    trace of the event it descends from (its ``traceparent`` header), and no per-event
    framework work, which measured at over half the cost of a relayed event (see ``make bench``).
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
        pending = [await self._send(item) for item in outgoing]
        await asyncio.gather(*pending)

    async def _send(self, item: Outgoing) -> asyncio.Future[object]:
        if self._producer is None:
            raise RuntimeError("KafkaEventPublisher.publish before start()")
        parent = item.cause.trace_context() if item.cause else None
        span = self._tracer.start_span(
            f"{item.topic} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes=_event_attributes(item),
        )
        try:
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            headers = [(CONTENT_TYPE, JSON), *((k, v.encode()) for k, v in carrier.items())]
            future: asyncio.Future[object] = await self._producer.send(
                item.topic,
                item.event.model_dump_json().encode(),
                key=item.key.encode(),
                headers=headers,
            )
            return future
        finally:
            span.end()


def _event_attributes(item: Outgoing) -> dict[str, str]:
    # The event's ids on its producer span are how `driftloop trace EVENT_ID` finds its trace.
    event = item.event
    attributes = {
        "messaging.system": "kafka",
        "messaging.destination.name": item.topic,
        "messaging.kafka.message.key": item.key,
        "driftloop.event_id": event.event_id,
        "driftloop.event_type": event.event_type,
    }
    if event.causation_id is not None:
        attributes["driftloop.causation_id"] = event.causation_id
    return attributes


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
        """Send every event in its cause's trace context."""
        for item in outgoing:
            token = otel_context.attach(item.cause.trace_context()) if item.cause else None
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
