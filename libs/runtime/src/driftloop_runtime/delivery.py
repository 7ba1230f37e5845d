"""At-least-once batch consumption: parse, handle, publish, then commit; bad messages dead-lettered.

The order of a batch's life is what makes delivery at-least-once:

1. every record is parsed against its contract; a record that is not JSON or breaks the
   contract becomes a dead letter with the validation error as its reason;
2. the handler gets the valid events of the whole batch (one call, so it can work vectorised);
   if it raises on data, the batch is split and retried until the failing events are isolated
   and dead-lettered with the exception as their reason, while the rest go on;
3. outputs and dead letters are published and acknowledged by the broker;
4. only then does FastStream commit the offsets (``AckPolicy.NACK_ON_ERROR``): if anything
   before raised, the consumer seeks back and the batch is delivered again, and a process that
   dies before step 3 leaves its offsets uncommitted for the next member of the group.

Each batch is traced as one ``TOPIC process`` span linked to its records' producer spans, and
what it publishes is traced per output batch under it (``telemetry.consume_span``).

Infrastructure errors (the broker or the store unreachable) are not the data's fault: they are
never dead-lettered, the batch is retried after a pause instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from opentelemetry import context as otel_context
from opentelemetry import trace
from pymongo.errors import ConnectionFailure

from driftloop_contracts import Event
from driftloop_runtime.decoding import parse_records
from driftloop_runtime.publishing import EventPublisher, dead_letter
from driftloop_runtime.records import BatchResult, Incoming, Outgoing, Rejection, SourceRecord
from driftloop_runtime.service import ServiceParts
from driftloop_runtime.telemetry import consume_span

__all__ = [
    "TRANSIENT_ERRORS",
    "BatchHandler",
    "BatchPipeline",
    "PartitionHooks",
    "one_by_one",
    "parse_records",
    "skip_decoding",
    "subscribe_batches",
]

E = TypeVar("E", bound=Event)
BatchHandler = Callable[[Sequence[Incoming[E]]], Awaitable[BatchResult]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    KafkaError,
    ConnectionFailure,
    ConnectionError,
    TimeoutError,
)
logger = logging.getLogger(__name__)


class BatchPipeline(Generic[E]):
    """Runs one consumed batch through parse → handle → publish (commit is FastStream's)."""

    def __init__(
        self,
        *,
        contract: type[E],
        handler: BatchHandler[E],
        publisher: EventPublisher,
        service: str,
        consumer_group: str,
        transient_backoff_s: float = 1.0,
    ) -> None:
        """Parse records as ``contract`` and hand them to ``handler``; name dead letters after
        ``service`` and ``consumer_group``."""
        self._contract = contract
        self._handler = handler
        self._publisher = publisher
        self._service = service
        self._group = consumer_group
        self._backoff_s = transient_backoff_s

    async def process(self, records: Sequence[SourceRecord]) -> BatchResult:
        """Handle one batch and publish its outputs and dead letters; return what was published.

        Raises on infrastructure errors, so that the batch is not committed and comes again.
        """
        incoming, malformed = self.parse(records)
        result = BatchResult(rejections=malformed)
        if incoming:
            result += await self._handle(incoming)
        letters = [
            dead_letter(r, service=self._service, consumer_group=self._group)
            for r in result.rejections
        ]
        await self._publisher.publish([*result.outputs, *letters])
        return result

    def parse(self, records: Sequence[SourceRecord]) -> tuple[list[Incoming[E]], list[Rejection]]:
        """Split records into valid events and rejections for the ones that break the contract."""
        return parse_records(self._contract, records)

    async def _handle(self, batch: Sequence[Incoming[E]]) -> BatchResult:
        try:
            return await self._handler(batch)
        except TRANSIENT_ERRORS:
            logger.exception("infrastructure error, the batch will be delivered again")
            await asyncio.sleep(self._backoff_s)
            raise
        except Exception as error:
            if len(batch) == 1:
                logger.warning("handler failed on event %s: %r", batch[0].event.event_id, error)
                return BatchResult(rejections=(_handler_rejection(batch[0], error),))
            middle = len(batch) // 2
            return await self._handle(batch[:middle]) + await self._handle(batch[middle:])


def one_by_one(step: Callable[[E], Awaitable[Sequence[Outgoing]]]) -> BatchHandler[E]:
    """A batch handler that runs ``step`` on each event in order, for low-volume control
    topics where each event is its own unit of work. The step runs in its event's trace (the
    spans it opens are children of the event's producer span, not of the batch's), and each
    output continues that trace."""

    async def handle(batch: Sequence[Incoming[E]]) -> BatchResult:
        outputs: list[Outgoing] = []
        for item in batch:
            with _in_trace_of(item.source):
                produced = await step(item.event)
                context = otel_context.get_current()
            outputs += [Outgoing(o.topic, o.key, o.event, item.source, context) for o in produced]
        return BatchResult(outputs=outputs)

    return handle


@contextmanager
def _in_trace_of(source: SourceRecord) -> Iterator[None]:
    # A record without trace headers leaves the batch's span current rather than none.
    context = source.trace_context()
    if not trace.get_current_span(context).get_span_context().is_valid:
        yield
        return
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def _handler_rejection(item: Incoming[Any], error: Exception) -> Rejection:
    reason = f"handler failed: {type(error).__name__}: {error}"
    return Rejection(item.source, reason, error_type="handler", event_id=item.event.event_id)


def subscribe_batches(
    parts: ServiceParts,
    *,
    topic: str,
    group_id: str,
    contract: type[E],
    handler: BatchHandler[E],
    partitions: PartitionHooks | None = None,
    fetch_max_wait_ms: int | None = None,
) -> BatchPipeline[E]:
    """Consume ``topic`` in batches as member of ``group_id``, committing only after publishing.

    Records are parsed as ``contract`` and handed to ``handler``; what it returns is published
    through the service's publisher. A new group starts from the earliest offset, so nothing
    published before its first start is missed. ``partitions`` hears of partitions assigned
    (with the offset consumption resumes from) before their first batch, and of partitions
    revoked: what a service with per-partition state needs. ``fetch_max_wait_ms`` overrides
    the runtime's setting for a consumer no prediction waits on (a control topic, an
    offline-store writer): a longer wait polls the broker less. Returns the pipeline.
    """
    settings = parts.settings
    pipeline = BatchPipeline(
        contract=contract,
        handler=handler,
        publisher=parts.publisher,
        service=parts.name,
        consumer_group=group_id,
        transient_backoff_s=settings.transient_error_backoff_s,
    )

    listener = _HookListener(partitions) if partitions is not None else None
    subscriber = parts.broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=settings.kafka_max_records,
        batch_timeout_ms=settings.kafka_fetch_timeout_ms,
        fetch_max_wait_ms=fetch_max_wait_ms or settings.kafka_fetch_max_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=skip_decoding,
        listener=listener,
    )
    if listener is not None:
        listener.subscriber = subscriber

    tracer = trace.get_tracer("driftloop.consume", tracer_provider=parts.tracer_provider)

    @subscriber
    async def on_batch(message: KafkaMessage) -> None:
        records = _source_records(message.raw_message)
        with consume_span(tracer, topic, group_id, records):
            await pipeline.process(records)

    return pipeline


class PartitionHooks(Protocol):
    """What a service with per-partition state does when partitions come and go."""

    async def assigned(self, resume_from: Mapping[TopicPartition, int]) -> None:
        """Partitions this member now consumes, each with the offset it resumes from (the
        group's committed offset, 0 for a partition never committed). Called before the
        partitions' first batch: the place to rebuild state from the log up to there."""

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Partitions this member no longer consumes (after their last batch)."""


class _HookListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Turns aiokafka's rebalance callbacks into ``PartitionHooks`` calls."""

    def __init__(self, hooks: PartitionHooks) -> None:
        self.hooks = hooks
        self.subscriber: Any = None  # the FastStream subscriber, whose consumer is asked

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:
            await self.hooks.revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.subscriber.consumer
        resume = {tp: (await consumer.committed(tp)) or 0 for tp in sorted(assigned)}
        await self.hooks.assigned(resume)


def _source_records(
    raw: ConsumerRecord[Any, Any] | Sequence[ConsumerRecord[Any, Any]],
) -> list[SourceRecord]:
    # a tuple from the Kafka consumer, a list from FastStream's in-memory test broker
    records = raw if isinstance(raw, tuple | list) else (raw,)
    return [SourceRecord.of(record) for record in records]


async def skip_decoding(message: KafkaMessage) -> None:
    """A FastStream decoder that decodes nothing: driftloop parses each record against its
    contract itself, so that one bad record does not fail its whole batch."""
    return None
