"""hour_of_day and day_of_week read the event time on the feature's wall clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from driftloop_features import DataRow, EntityWindows, compute_features

from .helpers import column, spec_of

pytestmark = pytest.mark.unit


def clock(timezone: str | None, *moments: str) -> tuple[list[float], list[float]]:
    """Hours and weekdays of the moments (ISO 8601 with an offset) read in ``timezone``."""
    zone = {} if timezone is None else {"timezone": timezone}
    spec = spec_of(
        {"v": {"type": "float", "required": False}},
        [
            {"name": "hour", "transform": "hour_of_day", **zone},
            {"name": "weekday", "transform": "day_of_week", **zone},
        ],
    )
    rows = [DataRow(f"e{i}", "a", datetime.fromisoformat(m)) for i, m in enumerate(moments)]
    batch = compute_features(spec, rows, EntityWindows())
    return column(batch, "hour"), column(batch, "weekday")


def test_utc_by_default() -> None:
    assert clock(
        None,
        "2024-05-06T00:00:00+00:00",  # Monday
        "2024-05-06T23:59:59.999999+00:00",
        "2024-05-12T13:30:00+00:00",  # Sunday
    ) == ([0.0, 23.0, 13.0], [0.0, 0.0, 6.0])


def test_the_events_own_offset_does_not_matter() -> None:
    # 09:00 in Tokyo on Monday 1 January 2024 is 00:00 UTC, 19:00 on Sunday in New York.
    hours, days = clock("America/New_York", "2024-01-01T09:00:00+09:00")
    assert (hours, days) == ([19.0], [6.0])
    assert clock(None, "2024-01-01T09:00:00+09:00") == ([0.0], [0.0])


def test_berlin_crosses_midnight_into_monday() -> None:
    # Sunday 22:30 UTC is Monday 00:30 in Berlin in summer (UTC+2).
    assert clock("Europe/Berlin", "2024-05-05T22:30:00+00:00") == ([0.0], [0.0])


def test_berlin_daylight_saving_starts_and_ends() -> None:
    hours, days = clock(
        "Europe/Berlin",
        "2024-03-31T00:59:59+00:00",  # 01:59:59 CET
        "2024-03-31T01:00:00+00:00",  # 03:00 CEST: 02:xx never happens
        "2024-10-27T00:30:00+00:00",  # 02:30 CEST
        "2024-10-27T01:30:00+00:00",  # 02:30 CET, the hour repeats
        "2024-10-27T02:30:00+00:00",  # 03:30 CET
    )
    assert hours == [1.0, 3.0, 2.0, 2.0, 3.0]
    assert days == [6.0] * 5  # both are Sundays


def test_a_transition_in_the_middle_of_an_hour() -> None:
    # Lord Howe Island moves its clock by 30 minutes, at 02:00 local standard time (UTC+10:30),
    # which is 15:30 UTC: the one UTC hour holds two offsets.
    hours, _ = clock(
        "Australia/Lord_Howe",
        "2024-10-05T15:10:00+00:00",  # 01:40 (+10:30)
        "2024-10-05T15:29:59+00:00",  # 01:59:59 (+10:30)
        "2024-10-05T15:30:00+00:00",  # 02:30 (+11)
        "2024-10-05T15:50:00+00:00",  # 02:50 (+11)
    )
    assert hours == [1.0, 1.0, 2.0, 2.0]


def test_a_transition_in_the_middle_of_an_hour_that_skips_an_hour() -> None:
    # Newfoundland (UTC-3:30) springs forward at 02:00 local time, 05:30 UTC: after it, 05:45 UTC
    # is 03:15 (UTC-2:30), not 02:15 as the offset at the start of that UTC hour would say.
    hours, _ = clock(
        "America/St_Johns",
        "2024-03-10T05:10:00+00:00",  # 01:40 (-3:30)
        "2024-03-10T05:29:59+00:00",  # 01:59:59 (-3:30)
        "2024-03-10T05:30:00+00:00",  # 03:00 (-2:30)
        "2024-03-10T05:45:00+00:00",  # 03:15 (-2:30)
    )
    assert hours == [1.0, 1.0, 3.0, 3.0]


def test_half_hour_zones_and_the_next_day() -> None:
    # India is UTC+5:30 all year; 18:45 UTC on Monday is 00:15 on Tuesday.
    assert clock("Asia/Kolkata", "2024-01-01T00:00:00+00:00", "2024-01-01T18:45:00+00:00") == (
        [5.0, 0.0],
        [0.0, 1.0],
    )


def test_times_before_1970() -> None:
    # 1970-01-01 was a Thursday; the hour before it is Wednesday 23:00.
    assert clock(None, "1969-12-31T23:00:00+00:00", "1969-12-29T00:00:00+00:00") == (
        [23.0, 0.0],
        [2.0, 0.0],
    )


def test_a_naive_event_time_is_an_error() -> None:
    spec = spec_of(
        {"v": {"type": "float", "required": False}}, [{"name": "h", "transform": "hour_of_day"}]
    )
    naive = DataRow("e1", "a", datetime(2024, 1, 1, 12))
    with pytest.raises(
        ValueError, match="event e1: event time 2024-01-01T12:00:00 has no timezone"
    ):
        compute_features(spec, [naive], EntityWindows())
