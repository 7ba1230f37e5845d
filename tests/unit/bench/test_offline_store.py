"""The offline-store benchmark's stream, spans and verdicts: labels come a fixed number of events
behind their rows, the window's span holds the rows asked for, and the issue's targets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bench.offline_inputs import GAP, START, Stream, label_rows, subject, window_span
from bench.offline_store import SPEC, flat, last_to_first, per_second, rates_of, targets
from driftloop_contracts import FeaturesComputed, OutcomeValidated
from driftloop_spec import load_spec

pytestmark = pytest.mark.unit


def step(rows: int, labels: int) -> dict[str, Any]:
    return {"rows": 100, "rows_per_s": rows, "labels": 100 if labels else 0, "labels_per_s": labels}


def test_labels_arrive_lag_events_behind_their_rows() -> None:
    assert label_rows(range(0, 500), 1_000) == range(0, 0)
    assert label_rows(range(500, 1_000), 700) == range(0, 300)
    assert label_rows(range(2_000, 2_500), 1_000) == range(1_000, 1_500)
    assert label_rows(range(10, 20), 0) == range(10, 20)


@pytest.mark.parametrize("bound", [timedelta(0), timedelta(milliseconds=1)])
def test_the_window_span_holds_the_labelled_rows_and_the_unlabelled_newest(
    bound: timedelta,
) -> None:
    rows, lag, labelled = 10_000, 1_000, 5_000
    newest = START + (rows - 1) * GAP + bound  # the reader may end a window just after it
    start = newest - window_span(labelled, lag)
    inside = [n for n in range(rows) if start <= START + n * GAP <= newest]
    assert len([n for n in inside if n < rows - lag]) == labelled  # the labels of the rest are due
    assert len(inside) == labelled + lag


def test_the_stream_serves_the_specs_columns_and_stamps_outcomes_later() -> None:
    spec = load_spec(SPEC)
    stream = Stream(spec, label_lag=1_000, pool=8)
    (vector,) = stream.vectors(range(3, 4))
    (outcome,) = stream.outcomes(range(3, 4))
    FeaturesComputed.model_validate(vector.model_dump())  # what add_rows gets is a valid event
    OutcomeValidated.model_validate(outcome.model_dump())
    assert vector.feature_names == list(spec.feature_columns())
    assert len(vector.values) == len(vector.feature_names) == 16
    assert vector.subject_event_id == outcome.subject_event_id == subject(3)
    assert outcome.occurred_at - vector.occurred_at == 1_000 * GAP
    assert vector.dataset == outcome.dataset == spec.name


def test_a_rate_over_no_time_is_zero() -> None:
    assert per_second(1_000, 0.5) == 2_000
    assert per_second(0, 0.0) == 0


def test_flat_is_the_last_rate_within_a_fifth_of_the_first_either_way() -> None:
    assert flat([2_000, 1_000, 1_600]) is True
    assert flat([2_000, 1_599]) is False
    assert flat([2_000, 2_400]) is True
    assert flat([2_000, 2_401]) is False
    assert flat([2_000]) is None
    assert flat([0, 2_000]) is None  # a first step without labels (--label-lag >= --step)


def test_last_to_first_is_the_ratio_of_the_rates() -> None:
    assert last_to_first([2_000, 9_000, 500]) == 0.25
    assert last_to_first([0, 100]) is None
    assert last_to_first([100]) is None


def test_targets_need_every_step_at_the_rate_and_a_full_window() -> None:
    read = {"rows": 100_000, "seconds": 9.5}
    met = targets([step(2_500, 2_400), step(2_300, 2_200)], read)
    assert met == {
        "rows_at_least_2000_per_s": True,
        "labels_at_least_2000_per_s": True,
        "rows_flat_within_20%": True,
        "labels_flat_within_20%": True,
        "window_100000_under_10_s": True,
    }
    missed = targets([step(2_500, 2_400), step(1_900, 2_000)], {"rows": 100_000, "seconds": 10})
    assert missed["rows_at_least_2000_per_s"] is False
    assert missed["labels_at_least_2000_per_s"] is True
    assert missed["window_100000_under_10_s"] is False


def test_a_window_smaller_than_the_targets_is_not_judged() -> None:
    assert (
        targets([step(3_000, 3_000)], {"rows": 99_000, "seconds": 1})["window_100000_under_10_s"]
        is None
    )
    assert targets([step(3_000, 3_000)], None)["window_100000_under_10_s"] is None


def test_steps_without_labels_are_not_judged_for_labels() -> None:
    steps = [step(3_000, 0), step(2_900, 2_500), step(2_800, 2_400)]
    assert rates_of(steps, "labels") == [2_500, 2_400]
    met = targets(steps, None)
    assert met["labels_at_least_2000_per_s"] is True
    assert met["labels_flat_within_20%"] is True
    assert targets([step(3_000, 0)], None)["labels_at_least_2000_per_s"] is None
