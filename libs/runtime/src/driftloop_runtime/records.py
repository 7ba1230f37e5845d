"""What the delivery pipeline hands to a handler and takes back from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from opentelemetry import propagate
from opentelemetry.context import Context

from driftloop_contracts import Event

__all__ = ["BatchResult", "Incoming", "Outgoing", "Rejection", "SourceRecord"]

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """Where a consumed message came from, and its original bytes (kept for dead letters)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, record: ConsumerRecord[Any, Any]) -> SourceRecord:
        """Copy the fields that matter out of an aiokafka record."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            headers=tuple(record.headers),
        )

    def trace_context(self) -> Context:
        """The W3C trace context the producer put in the headers (empty when there was none)."""
        carrier = {name: value.decode("latin-1") for name, value in self.headers}
        return propagate.extract(carrier)


@dataclass(frozen=True, slots=True)
class Incoming(Generic[E]):
    """A consumed event that passed its contract, with the record it came from."""

    event: E
    source: SourceRecord


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event to publish; ``cause`` is the consumed record it descends from (its dead letter's
    source), ``context`` the trace its publish span continues when not the current one (a
    control event handled in its own trace)."""

    topic: str
    key: str
    event: Event
    cause: SourceRecord | None = None
    context: Context | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A consumed message that must go to the dead-letter topic, with the reason why."""

    source: SourceRecord
    reason: str
    error_type: str = "rejected"
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch handler produced: events to publish and messages to dead-letter."""

    outputs: Sequence[Outgoing] = field(default_factory=tuple)
    rejections: Sequence[Rejection] = field(default_factory=tuple)

    def __add__(self, other: BatchResult) -> BatchResult:
        """Both results, in order."""
        return BatchResult(
            outputs=(*self.outputs, *other.outputs),
            rejections=(*self.rejections, *other.rejections),
        )
