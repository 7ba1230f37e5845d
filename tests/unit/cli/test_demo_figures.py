"""The demo's figures: ROC AUC and recall at 1% FPR, the rolling window in stream order, the
summary's detection delay, recovery and latency, and the plot and JSON files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from driftloop_cli.demo import SeenPrediction, StreamEvent
from driftloop_cli.demo.quality import last_window, recall_at_fpr, roc_auc, rolling_quality
from driftloop_cli.demo.report import report
from driftloop_cli.demo.summary import render, summarize
from tests.unit.cli.demo_builders import scripted_result

pytestmark = pytest.mark.unit


def test_roc_auc_matches_scikit_learn_with_ties() -> None:
    rng = random.Random(1)
    labels = [rng.random() < 0.1 for _ in range(500)]
    scores = [round(rng.random() + (0.3 if y else 0), 1) for y in labels]  # many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_roc_auc_is_undefined_with_one_class() -> None:
    assert roc_auc([False, False], [0.1, 0.2]) is None
    assert recall_at_fpr([True, True], [0.1, 0.2]) is None


def test_recall_at_one_percent_fpr_counts_positives_above_the_negatives_99th_percentile() -> None:
    negatives = [n / 1000 for n in range(1000)]  # threshold ~0.989
    positives = [0.5, 0.995, 0.999, 0.9999]
    labels = [False] * len(negatives) + [True] * len(positives)
    assert recall_at_fpr(labels, negatives + positives) == pytest.approx(0.75)


def test_the_last_window_takes_the_latest_predicted_events_in_stream_order() -> None:
    stream = [StreamEvent(n, f"e{n}", n % 2 == 0, None, 0.0) for n in range(10)]
    predicted = {f"e{n}": SeenPrediction(f"e{n}", 1, n / 10, 0.0) for n in (2, 3, 5, 7, 8)}
    labels, scores = last_window(stream, predicted, window=3)
    assert scores == [0.5, 0.7, 0.8]  # e9 had no prediction; e2 and e3 fell out
    assert labels == [False, False, True]


def test_rolling_points_follow_the_stream_and_name_the_serving_version() -> None:
    result = scripted_result()
    points = rolling_quality(result.stream, result.predictions, window=1_000, step=500)
    assert [p.position for p in points][:3] == [999, 1_499, 1_999]
    assert points[0].roc_auc == 1.0
    assert points[-1].version == 2
    assert min(p.roc_auc or 1 for p in points) < 0.8  # the window after the change


def test_summary_measures_detection_recovery_and_latency() -> None:
    summary = summarize(scripted_result(change_at=3_000, detected_at=3_600, promoted_at=4_000))
    assert summary.pre_change_level == 1.0
    assert summary.detection is not None
    assert summary.detection.delay_events == 600
    assert summary.detection.delay_labelled == 600 - 250
    assert summary.false_alarms == 0
    # v2 serves from 4,000; the window is within 2 points again once it holds few enough of
    # v1's coin flips, well before it holds only v2's predictions.
    assert summary.events_to_recovery is not None
    assert 1_000 < summary.events_to_recovery < 2_000
    assert summary.promoted == [{"version": 1, "position": 0}, {"version": 2, "position": 4_000}]
    assert summary.latency_s["p50"] == pytest.approx(0.1)
    assert summary.latency_s["p95"] == pytest.approx(0.1)
    assert summary.latency_s["p99"] == pytest.approx(0.5)
    assert summary.throughput == pytest.approx(100)


def test_an_alarm_before_the_change_is_a_false_alarm_not_a_detection() -> None:
    summary = summarize(scripted_result(change_at=3_000, detected_at=2_000))
    assert summary.false_alarms == 1
    assert summary.detection is None
    assert any("detection         none seen" in line for line in render(summary))


def test_a_stream_that_never_recovers_says_so() -> None:
    summary = summarize(scripted_result(events=5_000, promoted_at=10_000))
    assert summary.events_to_recovery is None
    assert any("not within the stream" in line for line in render(summary))


def test_report_writes_the_json_summary_and_a_png(tmp_path: Path) -> None:
    result = scripted_result()
    result.options = result.options.__class__(
        **{**result.options.__dict__, "plot": tmp_path / "d.png", "summary": tmp_path / "s.json"}
    )
    done = report(result)
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = json.loads((tmp_path / "s.json").read_text())
    assert written["detection"]["delay_events"] == done.summary.detection.delay_events  # type: ignore[union-attr]
    assert len(written["rolling"]) == len(done.curve) > 0
