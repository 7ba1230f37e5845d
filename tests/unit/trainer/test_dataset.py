"""The training set's rules: window, change point, minimum, holdout, labels."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from driftloop_trainer.dataset import (
    LABEL,
    TIME,
    TrainingError,
    build_training_set,
    select_window,
    split_holdout,
    usable_labels,
)
from tests.integration.trainer.data import T0, labelled_rows, trainer_spec

pytestmark = pytest.mark.unit

HOUR = timedelta(hours=1)
SPEC, _ = trainer_spec("cards", window="1d", min_labelled_rows=10)


def frame(count: int, label: bool | None = None) -> pd.DataFrame:
    """``count`` labelled rows an hour apart from T0."""
    return labelled_rows(SPEC, count, step=HOUR, label=label)


def test_the_window_ends_at_the_newest_labelled_row_and_reaches_back_the_spec_window() -> None:
    rows = frame(48)  # two days, hourly, the newest at T0 + 47h
    window = select_window(rows.sample(frac=1, random_state=0), window_s=86_400, min_rows=10)
    assert window[TIME].iloc[-1] == T0 + 47 * HOUR
    assert window[TIME].iloc[0] == T0 + 23 * HOUR  # 24 hours back, inclusive
    assert window[TIME].is_monotonic_increasing


def test_a_change_point_starts_the_window_later() -> None:
    window = select_window(frame(48), window_s=86_400, min_rows=10, start=T0 + 30 * HOUR)
    assert len(window) == 18
    assert window[TIME].iloc[0] == T0 + 30 * HOUR


def test_too_few_rows_after_the_change_point_take_the_most_recent_minimum() -> None:
    window = select_window(frame(48), window_s=86_400, min_rows=10, start=T0 + 45 * HOUR)
    assert len(window) == 10
    assert window[TIME].iloc[0] == T0 + 38 * HOUR


def test_a_change_point_before_the_window_does_not_widen_it() -> None:
    window = select_window(frame(48), window_s=86_400, min_rows=10, start=T0 - 10 * HOUR)
    assert len(window) == 25


def test_the_holdout_is_the_latest_fraction() -> None:
    train, holdout = split_holdout(frame(40), 0.25)
    assert (len(train), len(holdout)) == (30, 10)
    assert train[TIME].max() < holdout[TIME].min()
    assert [len(part) for part in split_holdout(frame(2), 0.01)] == [1, 1]


def test_labels_the_spec_does_not_allow_are_left_out() -> None:
    rows = frame(4)
    rows[LABEL] = [True, 1, "yes", False]  # the int 1 is not the class True
    assert usable_labels(rows, SPEC.label)[LABEL].tolist() == [True, False]
    regression, _ = trainer_spec("sizes", window="1d")
    numeric = regression.label.model_copy(update={"task": "regression", "type": "float"})
    numeric = numeric.model_copy(update={"classes": None, "positive": None})
    rows[LABEL] = [1.5, True, "2", 3]
    assert usable_labels(rows, numeric)[LABEL].tolist() == [1.5, 3]


def test_the_training_set_is_split_in_time_with_its_window() -> None:
    data = build_training_set(frame(48), SPEC, start=T0 + 30 * HOUR)
    assert data.rows == 18
    assert (len(data.train_y), len(data.holdout_y)) == (13, 5)  # 18 * 0.25 rounded up
    assert data.train_x.shape == (13, len(SPEC.feature_columns()))
    assert (data.first_event_time, data.last_event_time) == (T0 + 30 * HOUR, T0 + 47 * HOUR)


def test_too_few_labelled_rows_fail_with_the_counts() -> None:
    with pytest.raises(
        TrainingError, match="too few labelled rows: 9 in the window, the spec needs 10"
    ):
        build_training_set(frame(9), SPEC)
    with pytest.raises(TrainingError, match="too few labelled rows: 0"):
        build_training_set(frame(0), SPEC)


def test_a_single_class_fails() -> None:
    with pytest.raises(TrainingError, match=r"a single class in the 15 training rows \(True\)"):
        build_training_set(frame(20, label=True), SPEC)
