"""Publishing events to Kafka with their trace context, and turning rejections into dead letters."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context

from driftloop_contracts import DEAD_LETTER_TOPIC, DeadLettered
from driftloop_contracts.deadletter import MAX_ORIGINAL_BYTES
from driftloop_runtime.records import Outgoing, Rejection, SourceRecord

__all__ = ["EventPublisher", "dead_letter", "dead_letter_id"]

# What a dead letter can hold (its contract's bounds); past them the original is truncated and
# the reason says so, since a dead letter that cannot be built would stop the consumer.
MAX_REASON_CHARS = 2_000
MAX_KEY_CHARS = 1_024
# Base64 grows the original by a third: 512 KiB keeps a dead letter inside Kafka's default
# 1 MiB message size (the contract itself allows up to MAX_ORIGINAL_BYTES).
MAX_ORIGINAL_KEPT = min(512 * 1024, MAX_ORIGINAL_BYTES)


class EventPublisher:
    """Publishes many events at once and returns when the broker has acknowledged all of them."""

    def __init__(self, broker: KafkaBroker) -> None:
        """Publish through ``broker`` (which carries the telemetry middleware)."""
        self._broker = broker

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        """Send every event, keyed and traced, then wait for all acknowledgements.

        Each event is sent inside the trace context of the message it descends from, so the
        producer span (and the ``traceparent`` header) continue that message's trace.
        """
        pending = [await self._send(item) for item in outgoing]
        # FastStream's in-memory test broker delivers at once and hands back no future
        await asyncio.gather(*(future for future in pending if future is not None))

    async def _send(self, item: Outgoing) -> asyncio.Future[object] | None:
        token = otel_context.attach(item.cause.trace_context()) if item.cause else None
        try:
            return await self._broker.publish(
                item.event.model_dump_json().encode(),
                item.topic,
                key=item.key.encode(),
                headers={"content-type": "application/json"},
                no_confirm=True,
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
