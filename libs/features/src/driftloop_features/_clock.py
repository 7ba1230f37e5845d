"""Event times read on a wall clock, for a whole batch at once.

An IANA zone's UTC offset changes only at its transitions (daylight saving, law changes), so the
offset is looked up once per distinct UTC hour of the batch, not once per event. An hour whose
first and last microsecond have different offsets holds a transition; only its events are looked
up one by one. This assumes no zone changes its offset twice within one hour, which holds for
every zone in the tz database.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from driftloop_features.events import event_moment

__all__ = ["DAY_US", "HOUR_US", "day_of_week", "hour_of_day"]

HOUR_US = 3_600_000_000
"""Microseconds in an hour."""

DAY_US = 24 * HOUR_US
"""Microseconds in a day."""

_MICROSECOND = timedelta(microseconds=1)
_THURSDAY = 3  # 1970-01-01, day 0 of the epoch, was a Thursday (Monday is 0)

Int64Array = npt.NDArray[np.int64]


def hour_of_day(times_us: Int64Array, timezone: str) -> Int64Array:
    """Return the hour (0 to 23) of each time in ``timezone``."""
    return (_local(times_us, timezone) // HOUR_US) % 24


def day_of_week(times_us: Int64Array, timezone: str) -> Int64Array:
    """Return the weekday (0 Monday to 6 Sunday) of each time in ``timezone``."""
    return (_local(times_us, timezone) // DAY_US + _THURSDAY) % 7


def _local(times_us: Int64Array, timezone: str) -> Int64Array:
    """Return each time shifted by the zone's UTC offset at that instant (numpy floors)."""
    if timezone == "UTC" or times_us.size == 0:
        return times_us
    zone = zoneinfo.ZoneInfo(timezone)
    hours, inverse = np.unique(times_us // HOUR_US, return_inverse=True)
    starts = (hours * HOUR_US).tolist()
    first = np.array([_offset_us(zone, start) for start in starts], dtype=np.int64)
    last = np.array([_offset_us(zone, start + HOUR_US - 1) for start in starts], dtype=np.int64)
    offsets = first[inverse]
    moving = np.flatnonzero((first != last)[inverse])
    if moving.size:
        exact = [_offset_us(zone, time) for time in times_us[moving].tolist()]
        offsets[moving] = np.array(exact, dtype=np.int64)
    return times_us + offsets


def _offset_us(zone: zoneinfo.ZoneInfo, time_us: int) -> int:
    offset = event_moment(time_us).astimezone(zone).utcoffset()
    assert offset is not None  # an aware datetime always has one
    return offset // _MICROSECOND
