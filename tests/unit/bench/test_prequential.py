"""The drift-recovery benchmark's figures: prequential metrics, the rolling metric, the recovery
point, the detection delay and the latency split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bench.prequential import (
    LoopTimes,
    Rolling,
    ScoreStream,
    detection,
    latency_split,
    prequential_metrics,
    recovery,
    rolling_auc,
)

pytestmark = pytest.mark.unit


def stream_of(truth: list[bool], scores: list[float]) -> ScoreStream:
    return ScoreStream.of(range(len(truth)), truth, scores)


def test_prequential_metrics_are_auc_and_recall_at_one_percent_fpr() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(2_000) < 0.05
    scores = np.where(truth, rng.random(2_000) + 0.5, rng.random(2_000))
    figures = prequential_metrics(ScoreStream.of(range(2_000), truth, scores))
    assert figures["roc_auc"] == pytest.approx(roc_auc_score(truth, scores), abs=1e-4)
    # negatives above 0.99 are the 1% the threshold may let through
    expected = (scores[truth] > np.quantile(scores[~truth], 0.99)).mean()
    assert figures["recall_at_1pct_fpr"] == pytest.approx(expected, abs=0.02)
    assert figures["events"] == 2_000


def test_prequential_metrics_of_one_class_are_none() -> None:
    figures = prequential_metrics(stream_of([False] * 5, [0.1] * 5))
    assert figures["roc_auc"] is None
    assert figures["recall_at_1pct_fpr"] is None


def test_a_stream_refuses_unordered_positions_and_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="increase"):
        ScoreStream.of([0, 2, 1], [True, False, True], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="length"):
        ScoreStream.of([0, 1], [True], [0.1, 0.2])


def test_only_keeps_the_events_named() -> None:
    stream = ScoreStream.of([0, 3, 5, 9], [True, False, True, False], [0.9, 0.1, 0.8, 0.2])
    kept = stream.only([3, 9, 11])
    assert kept.positions.tolist() == [3, 9]
    assert kept.scores.tolist() == [0.1, 0.2]


def test_rolling_auc_windows_end_at_the_positions_of_their_last_score() -> None:
    truth = [i % 4 == 0 for i in range(40)]
    perfect = [1.0 if t else 0.0 for t in truth]
    rolling = rolling_auc(ScoreStream.of(range(0, 80, 2), truth, perfect), window=10, step=5)
    assert rolling.positions.tolist() == [18, 28, 38, 48, 58, 68, 78]
    assert rolling.values.tolist() == [1.0] * 7


def test_rolling_auc_of_a_one_class_window_is_nan() -> None:
    rolling = rolling_auc(stream_of([False] * 10 + [True, False] * 5, [0.5] * 20), window=10)
    assert math.isnan(rolling.values[0])


def series(values: list[float], every: int = 100) -> Rolling:
    return Rolling(np.arange(len(values), dtype=np.int64) * every, np.array(values))


def test_recovery_counts_events_from_the_change_to_the_level_regained_for_good() -> None:
    # level 0.9 before the change at 1,000; down, a brief bounce at 1,300, back for good at 1,600
    values = [0.9] * 10 + [0.8, 0.7, 0.7, 0.89, 0.75, 0.8, 0.9, 0.91] + [0.9] * 12
    found = recovery(series(values), change_at=1_000, hold=1_000)
    assert found.level == pytest.approx(0.9)
    assert found.dropped
    assert found.lowest == pytest.approx(0.7)
    assert found.events == 600


def test_recovery_is_zero_when_the_metric_never_drops() -> None:
    found = recovery(series([0.9] * 10 + [0.89, 0.91] * 10), change_at=1_000)
    assert not found.dropped
    assert found.events == 0


def test_recovery_is_none_when_the_metric_stays_down() -> None:
    found = recovery(series([0.9] * 10 + [0.6] * 20), change_at=1_000)
    assert found.dropped
    assert found.events is None


def test_a_recovery_too_close_to_the_end_to_be_held_is_not_counted() -> None:
    found = recovery(series([0.9] * 10 + [0.6] * 15 + [0.9] * 5), change_at=1_000, hold=1_000)
    assert found.events is None


def test_detection_counts_the_labels_that_had_arrived() -> None:
    assert detection(change_at=10_000, alarm_at=11_500, label_delay=250).labelled_events == 1_250
    early = detection(change_at=10_000, alarm_at=10_100, label_delay=250)
    assert (early.events, early.labelled_events) == (100, 0)


def test_latency_split_steps_add_up_to_the_total() -> None:
    split = latency_split(LoopTimes(100.0, 112.5, 113.0, 113.25, 114.0))
    assert split == {
        "detect_to_train": 12.5,
        "train_to_register": 0.5,
        "register_to_promote": 0.25,
        "promote_to_swap": 0.75,
        "total": 14.0,
    }


def test_latency_split_leaves_out_what_did_not_happen() -> None:
    split = latency_split(LoopTimes(100.0, 112.5, None, None, None))
    assert split["detect_to_train"] == 12.5
    assert split["train_to_register"] is None
    assert split["total"] is None
