"""What features are computed from: data events, as the contract or as plain rows.

``compute_features`` reads four things of a data event: its id, its entity id, its event time
and its fields. ``DataValidated`` (the feature service's input) has them; so does ``DataRow``,
for callers that hold plain values (the trainer reading history, the scorer's synchronous
predict, tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = [
    "DataEventLike",
    "DataRow",
    "FieldValue",
    "event_moment",
    "event_time_us",
    "event_times_us",
]

FieldValue = bool | int | float | str | None
"""A raw field value, as a validated data event carries it (``None`` for null)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class DataEventLike(Protocol):
    """Anything shaped like a validated data event (``DataValidated`` is one)."""

    @property
    def event_id(self) -> str:
        """Unique id of the event; the windows use it to recognise a replayed event."""
        ...

    @property
    def entity_id(self) -> str:
        """Id of the entity the event is about; windowed aggregates are kept per entity."""
        ...

    @property
    def occurred_at(self) -> datetime:
        """Event time, timezone-aware; windows and clock features read it."""
        ...

    @property
    def fields(self) -> Mapping[str, FieldValue]:
        """Raw field values by name; an absent name or ``None`` is a missing value."""
        ...


@dataclass(frozen=True, slots=True)
class DataRow:
    """A data event as plain values: the minimum ``compute_features`` reads.

    Attributes:
        event_id: Unique id of the event.
        entity_id: Id of the entity the event is about.
        occurred_at: Event time; must be timezone-aware.
        fields: Raw field values by name.
    """

    event_id: str
    entity_id: str
    occurred_at: datetime
    fields: Mapping[str, FieldValue] = field(default_factory=dict)


def event_time_us(moment: datetime) -> int:
    """Return a timezone-aware time as whole microseconds since the Unix epoch.

    Whole microseconds keep window edges exact: an event exactly one window older than another
    is exactly ``window * 1_000_000`` behind it, which float seconds cannot promise.

    Args:
        moment: A timezone-aware datetime.

    Returns:
        Microseconds since 1970-01-01T00:00:00Z (negative before it).

    Raises:
        ValueError: If ``moment`` is naive.
    """
    if moment.utcoffset() is None:
        raise ValueError(f"event time {moment.isoformat()} has no timezone")
    return (moment - _EPOCH) // _MICROSECOND


def event_moment(time_us: int) -> datetime:
    """The UTC time ``event_time_us`` gave ``time_us`` for (the inverse of it)."""
    return _EPOCH + time_us * _MICROSECOND


def event_times_us(events: Sequence[DataEventLike]) -> list[int]:
    """Return the event times of a batch as whole microseconds since the Unix epoch.

    Raises:
        ValueError: If an event time is naive.
    """
    try:
        return [(event.occurred_at - _EPOCH) // _MICROSECOND for event in events]
    except TypeError:
        naive = next(e for e in events if e.occurred_at.utcoffset() is None)
        raise ValueError(
            f"event {naive.event_id}: event time {naive.occurred_at.isoformat()} has no timezone"
        ) from None
