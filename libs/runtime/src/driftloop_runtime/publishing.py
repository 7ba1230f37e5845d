"""Publishing events to Kafka with their trace context, and turning rejections into dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from driftloop_contracts import DEAD_LETTER_TOPIC, DeadLettered
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context

from driftloop_runtime.records import Outgoing, Rejection

__all__ = ["EventPublisher", "dead_letter"]

# A dead letter keeps the whole original message, but not an unbounded reason text.
MAX_REASON_CHARS = 2_000


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
        await asyncio.gather(*pending)

    async def _send(self, item: Outgoing) -> asyncio.Future[object]:
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
    letter = DeadLettered(
        event_id=f"dlq:{consumer_group}:{source.topic}:{source.partition}:{source.offset}",
        occurred_at=datetime.now(UTC),
        producer=service,
        causation_id=rejection.event_id,
        reason=rejection.reason[:MAX_REASON_CHARS],
        error_type=rejection.error_type,
        original_value=source.value,
        original_key=source.key.decode("utf-8", "replace") if source.key is not None else None,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
        consumer_group=consumer_group,
    )
    key = letter.original_key or source.topic
    return Outgoing(topic=DEAD_LETTER_TOPIC, key=key, event=letter, cause=source)
