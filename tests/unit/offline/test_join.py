"""The label join's rules: bounds, the latest label, unlabelled rows, order, features untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from driftloop_offline import LABEL, SUBJECT, TIME, join_labels
from driftloop_offline.join import LABEL_ID, LABEL_TIME

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
EARLY, LATE = pd.Timedelta(minutes=5), pd.Timedelta(days=7)
COLUMNS = ["log_amount", "foreign_card"]


def rows(*subjects: tuple[str, timedelta]) -> pd.DataFrame:
    """A row per ``(subject, time after T0)``, its features ``[n, -n]`` for the n-th."""
    frame = pd.DataFrame({TIME: pd.to_datetime([T0 + at for _, at in subjects], utc=True)})
    frame[SUBJECT] = [subject for subject, _ in subjects]
    frame[COLUMNS[0]] = [float(n) for n in range(len(subjects))]
    frame[COLUMNS[1]] = [-float(n) for n in range(len(subjects))]
    return frame


def labels(*stamped: tuple[str, timedelta, Any, str]) -> pd.DataFrame:
    """A label per ``(subject, time after T0, label, label id)``."""
    return pd.DataFrame(
        {
            SUBJECT: [subject for subject, *_ in stamped],
            LABEL_TIME: pd.to_datetime([T0 + at for _, at, *_ in stamped], utc=True),
            LABEL: pd.Series([label for *_, label, _ in stamped], dtype=object),
            LABEL_ID: [label_id for *_, label_id in stamped],
        }
    )


def joined(row_frame: pd.DataFrame, label_frame: pd.DataFrame) -> dict[str, Any]:
    frame = join_labels(row_frame, label_frame, early=EARLY, late=LATE)
    return dict(zip(frame[SUBJECT], frame[LABEL], strict=True))


def test_a_label_within_the_bounds_joins_its_row() -> None:
    found = joined(
        rows(("a", timedelta(0)), ("b", timedelta(0)), ("c", timedelta(0))),
        labels(
            ("a", timedelta(hours=1), True, "la"),
            ("b", LATE, False, "lb"),  # the last moment that joins
            ("c", -EARLY, True, "lc"),  # a clock a little behind: the earliest that joins
        ),
    )
    assert found == {"a": True, "b": False, "c": True}


def test_a_label_stamped_after_late_or_before_early_does_not_join() -> None:
    second = timedelta(seconds=1)
    found = joined(
        rows(("late", timedelta(0)), ("early", timedelta(0))),
        labels(("late", LATE + second, True, "l1"), ("early", -EARLY - second, True, "l2")),
    )
    assert found == {}


def test_the_latest_joinable_label_wins_whatever_order_they_are_in() -> None:
    found = joined(
        rows(("a", timedelta(0)), ("b", timedelta(0))),
        labels(
            ("a", timedelta(days=2), True, "a-2"),  # the latest: a correction
            ("a", timedelta(days=1), False, "a-1"),
            ("a", LATE + timedelta(hours=1), False, "a-3"),  # later still, but too late
            ("b", timedelta(0), False, "b-inline"),
            ("b", timedelta(days=1), True, "b-outcome"),
        ),
    )
    assert found == {"a": True, "b": True}


def test_labels_stamped_at_the_same_moment_are_decided_by_their_id() -> None:
    at = timedelta(hours=3)
    found = joined(
        rows(("a", timedelta(0))),
        labels(("a", at, True, "id-b"), ("a", at, False, "id-c"), ("a", at, True, "id-a")),
    )
    assert found == {"a": False}  # "id-c", the greatest


def test_rows_without_a_label_are_left_out() -> None:
    frame = join_labels(
        rows(("a", timedelta(0)), ("b", timedelta(0))),
        labels(("b", timedelta(hours=1), True, "lb"), ("ghost", timedelta(0), True, "lg")),
        early=EARLY,
        late=LATE,
    )
    assert frame[SUBJECT].tolist() == ["b"]
    empty = join_labels(rows(("a", timedelta(0))), labels(), early=EARLY, late=LATE)
    assert empty.empty
    assert list(empty.columns) == [TIME, LABEL, SUBJECT, *COLUMNS]


def test_the_output_is_in_event_time_order_then_by_subject() -> None:
    frame = join_labels(
        rows(("c", timedelta(minutes=2)), ("b", timedelta(minutes=1)), ("a", timedelta(minutes=2))),
        labels(
            ("a", timedelta(hours=1), True, "la"),
            ("b", timedelta(hours=1), True, "lb"),
            ("c", timedelta(hours=1), True, "lc"),
        ),
        early=EARLY,
        late=LATE,
    )
    assert frame[SUBJECT].tolist() == ["b", "a", "c"]
    assert frame.index.tolist() == [0, 1, 2]


def test_the_feature_columns_come_through_unchanged_after_the_meta_columns() -> None:
    given = rows(("a", timedelta(0)), ("b", timedelta(seconds=1)))
    frame = join_labels(
        given,
        labels(("a", timedelta(0), True, "la"), ("b", timedelta(0), False, "lb")),
        early=EARLY,
        late=LATE,
    )
    assert list(frame.columns) == [TIME, LABEL, SUBJECT, *COLUMNS]
    pd.testing.assert_frame_equal(frame[[TIME, SUBJECT, *COLUMNS]], given)
