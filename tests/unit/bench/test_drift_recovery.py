"""The drift-recovery benchmark reads a demo run right: the served stream in order, the turn of
the loop an alarm started, and the targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.drift_loop import live_event_times, loop_figures, redeploy, served
from bench.drift_recovery import label_lag, targets
from driftloop_cli.demo import (
    DemoOptions,
    DemoResult,
    LoopEvent,
    SeenPrediction,
    StackSettings,
    StreamEvent,
)
from driftloop_contracts import DriftDetected, ModelRegistered, TrainingCompleted
from tests.unit.cli.demo_builders import promoted

pytestmark = pytest.mark.unit


def loop(kind: Any, event: Any, timestamp: float, position: int) -> LoopEvent:
    return LoopEvent(kind, event, timestamp, timestamp, position)


def registered(version: int, run_id: str) -> ModelRegistered:
    return ModelRegistered.example().model_copy(update={"version": version, "run_id": run_id})


def trained(run_id: str) -> TrainingCompleted:
    return TrainingCompleted.example().model_copy(update={"run_id": run_id})


def drift(version: int) -> DriftDetected:
    return DriftDetected.example().model_copy(update={"model_version": version})


def demo(loop_events: list[LoopEvent], change_at: int | None = 100) -> DemoResult:
    stream = [StreamEvent(i, f"e{i}", i % 3 == 0, None, float(i)) for i in range(6)]
    predictions = {f"e{i}": SeenPrediction(f"e{i}", 1, i / 10, float(i)) for i in (4, 1, 3)}
    options = DemoOptions(events=1_000, drift_at=change_at, label_delay=50)
    stack = StackSettings("127.0.0.1:1", "mongodb://127.0.0.1:2", "driftloop", Path())
    return DemoResult(options, stack, stream, predictions, loop_events, 0.0, 1.0, True)


def test_served_keeps_the_predicted_events_in_stream_order() -> None:
    stream = served(demo([]))
    assert stream.positions.tolist() == [1, 3, 4]
    assert stream.truth.tolist() == [False, True, False]
    assert stream.scores.tolist() == [0.1, 0.3, 0.4]


def test_redeploy_follows_the_first_champion_promoted_after_the_alarm() -> None:
    alarm = loop("drift", drift(1), 100.0, 300)
    result = demo(
        [
            loop("promoted", promoted(1), 10.0, 0),
            loop("training", trained("old"), 90.0, 250),  # a run before the alarm
            loop("registered", registered(2, "old"), 91.0, 260),
            loop("promoted", promoted(2, "shadow"), 92.0, 270),
            alarm,
            loop("training", trained("new"), 112.0, 400),
            loop("registered", registered(3, "new"), 112.5, 410),
            loop("promoted", promoted(3), 113.0, 420),
        ]
    )
    turn = redeploy(result, alarm, {1: 5.0, 3: 114.0})
    assert turn is not None
    assert (turn["version"], turn["run_id"]) == (3, "new")
    assert turn["seconds"] == {
        "detect_to_train": 12.0,
        "train_to_register": 0.5,
        "register_to_promote": 0.5,
        "promote_to_swap": 1.0,
        "total": 14.0,
    }


def test_no_promotion_after_the_alarm_is_no_redeploy() -> None:
    alarm = loop("drift", drift(1), 100.0, 300)
    result = demo([alarm, loop("training", trained("new"), 112.0, 400)])
    assert redeploy(result, alarm, {}) is None


def test_detection_is_the_first_alarm_after_the_change() -> None:
    result = demo(
        [loop("drift", drift(1), 50.0, 40), loop("drift", drift(1), 100.0, 400)], change_at=100
    )
    figures = loop_figures(result, {})
    assert (figures["alarms"], figures["alarms_before_change"]) == (2, 1)
    assert figures["detection"]["events"] == 300
    assert figures["detection"]["labelled_events"] == 250  # label delay 50
    assert figures["detection"]["change_point"] == drift(1).change_point.model_dump(mode="json")  # type: ignore[union-attr]


def figures(
    system: float, first: float, arf: float, labelled: int, total: float, lag: float = 0.5
) -> Any:
    quality = {
        name: {"prequential": {"roc_auc": auc, "recall_at_1pct_fpr": auc}}
        for name, auc in (("system", system), ("first_model", first), ("arf", arf))
    }
    return {
        **quality,
        "detection": {"labelled_events": labelled},
        "redeploy": {"seconds": {"total": total}},
        "offline_label_lag": label_lag(np.array([lag / 2, lag]), rate=1_000.0),
    }


def test_targets_are_met_or_not_never_raised() -> None:
    quiet = {"services": ["monitor"], "false_alarms": 0}
    met = targets(figures(0.95, 0.8, 0.9, 1_500, 30.0), quiet)
    assert all(met.values())
    missed = targets(figures(0.85, 0.8, 0.9, 2_500, 75.0, 2.5), {**quiet, "false_alarms": 2})
    assert not any(missed.values())


def test_false_alarms_are_not_measured_without_a_monitor() -> None:
    met = targets(figures(0.95, 0.8, 0.9, 1_500, 30.0), {"services": [], "false_alarms": 0})
    assert met["no_false_alarm_on_stationary_stream"] is None


def test_the_change_point_is_placed_in_the_live_stream_by_event_time() -> None:
    result = demo([], change_at=100)
    times = live_event_times(result.options)
    assert len(times) == 1_000
    assert times == sorted(times)
    alarm = drift(1)
    placed = alarm.change_point.model_copy(update={"event_time": times[120]})  # type: ignore[union-attr]
    result.loop_events.append(
        loop("drift", alarm.model_copy(update={"change_point": placed}), 1.0, 400)
    )
    assert loop_figures(result, {})["detection"]["change_point_position"] == 120


def test_the_label_lag_is_read_as_seconds_and_events_behind() -> None:
    lag = label_lag(np.array([0.1, 0.2, 0.3, 1.5]), rate=1_000.0)

    assert lag is not None
    assert lag["labels"] == 4
    assert lag["seconds"]["p50"] == 0.25
    assert lag["seconds"]["max"] == 1.5
    assert lag["max_events_behind"] == 1_500
    assert label_lag(np.array([]), rate=1_000.0) is None
