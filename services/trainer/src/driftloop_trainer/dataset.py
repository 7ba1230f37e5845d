"""The training set: which labelled rows a run learns from and which it holds out (pure pandas).

Rows are the offline store's served feature vectors with their labels, in the current spec's
columns. The window ends at the newest labelled row (labels lag behind events, so ending at
"now" would leave the window's tail empty) and reaches back the spec's ``training.window``.
A run that asks for a later start (a drift's change point, a request's ``window_start``)
begins there, but never with fewer than ``min_labelled_rows``: if fewer rows follow the start,
the most recent ``min_labelled_rows`` of the window are taken. The latest ``holdout`` fraction
by event time is held out, so candidate and champion are judged on the newest data, which
neither learned from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftloop_offline import LABEL, SUBJECT, TIME
from driftloop_spec import DatasetSpec, LabelSpec

__all__ = [
    "LABEL",
    "SUBJECT",
    "TIME",
    "TrainingError",
    "TrainingSet",
    "build_training_set",
    "select_window",
    "split_holdout",
    "usable_labels",
]


class TrainingError(Exception):
    """A run cannot produce a model; the message is the reason its result carries."""


@dataclass(frozen=True)
class TrainingSet:
    """The rows a run trains on and the rows it evaluates on, in event-time order."""

    columns: tuple[str, ...]
    train_x: NDArray[np.float64]
    train_y: list[Any]
    holdout_x: NDArray[np.float64]
    holdout_y: list[Any]
    first_event_time: datetime
    last_event_time: datetime
    dropped: int
    """Rows left out because their label is not one the spec allows."""

    @property
    def rows(self) -> int:
        """Rows trained on plus rows held out."""
        return len(self.train_y) + len(self.holdout_y)


def select_window(
    frame: pd.DataFrame, *, window_s: int, min_rows: int, start: datetime | None = None
) -> pd.DataFrame:
    """The rows of the training window, oldest first (see the module's rules)."""
    ordered = frame.sort_values([TIME, SUBJECT], kind="stable", ignore_index=True)
    if ordered.empty:
        return ordered
    end = ordered[TIME].iloc[-1]
    in_window = ordered[ordered[TIME] >= end - pd.Timedelta(seconds=window_s)]
    if start is None:
        return in_window
    after = in_window[in_window[TIME] >= pd.Timestamp(start)]
    return after if len(after) >= min_rows else in_window.tail(min_rows)


def split_holdout(frame: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earlier rows to train on and the latest ``fraction``, rounded up as scikit-learn's
    ``train_test_split`` does (at least one row each side)."""
    wanted = math.ceil(round(len(frame) * fraction, 9))  # 0.2 * 500 is 100.00000000000001
    held = min(len(frame) - 1, max(1, wanted))
    return frame.iloc[:-held], frame.iloc[-held:]


def usable_labels(frame: pd.DataFrame, label: LabelSpec) -> pd.DataFrame:
    """The rows whose label the spec allows: one of a classifier's classes (of its type: a
    bool is not the int 1), or a number for regression."""
    if label.classes is None:
        keep = [isinstance(v, int | float) and not isinstance(v, bool) for v in frame[LABEL]]
    else:
        allowed = {(type(c), c) for c in label.classes}
        keep = [(type(v), v) in allowed for v in frame[LABEL]]
    return frame[np.array(keep, dtype=bool)]


def build_training_set(
    frame: pd.DataFrame, spec: DatasetSpec, start: datetime | None = None
) -> TrainingSet:
    """The training set of ``spec`` from ``frame``'s labelled rows.

    Raises:
        TrainingError: Fewer labelled rows than the spec needs, or a classifier's training
            rows hold a single class.
    """
    usable = usable_labels(frame, spec.label)
    policy = spec.training
    rows = select_window(
        usable, window_s=policy.window, min_rows=policy.min_labelled_rows, start=start
    )
    if len(rows) < policy.min_labelled_rows:
        raise TrainingError(
            f"too few labelled rows: {len(rows)} in the window, the spec needs "
            f"{policy.min_labelled_rows}"
        )
    train, holdout = split_holdout(rows, policy.holdout)
    classes = set(train[LABEL].tolist())
    if spec.label.is_classifier and len(classes) < 2:
        raise TrainingError(
            f"a single class in the {len(train)} training rows ({classes.pop()!r}): "
            "a classifier needs at least two"
        )
    columns = spec.feature_columns()
    return TrainingSet(
        columns=columns,
        train_x=train[list(columns)].to_numpy(np.float64),
        train_y=train[LABEL].tolist(),
        holdout_x=holdout[list(columns)].to_numpy(np.float64),
        holdout_y=holdout[LABEL].tolist(),
        first_event_time=rows[TIME].iloc[0].to_pydatetime(),
        last_event_time=rows[TIME].iloc[-1].to_pydatetime(),
        dropped=len(frame) - len(usable),
    )
