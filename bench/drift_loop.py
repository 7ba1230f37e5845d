"""What a demo run's own records say, for ``bench.drift_recovery``: the champion predictions
a downstream consumer read, in stream order, and the loop's events (the detection delay of the
first alarm after the change, and the turn of the loop it started, timed by Kafka record
timestamps)."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bench.prequential import LoopTimes, ScoreStream, detection, latency_split
from driftloop_cli.demo import DemoOptions, DemoResult, LoopEvent
from driftloop_cli.simulation import CardTransactions
from driftloop_contracts import DriftDetected, ModelPromoted, ModelRegistered, TrainingCompleted

__all__ = ["live_event_times", "loop_figures", "promotion", "redeploy", "served", "services"]


def services(result: DemoResult) -> list[str]:
    """The services the run's stack started (``DRIFTLOOP_<NAME>_URL`` of each)."""
    env = result.stack.env
    return sorted(k[len("DRIFTLOOP_") : -len("_URL")].lower() for k in env if k.endswith("_URL"))


def served(result: DemoResult) -> ScoreStream:
    """The champion predictions the downstream consumer read, in stream order."""
    seen = [(e.position, e.is_fraud, result.predictions.get(e.event_id)) for e in result.stream]
    kept = [(position, fraud, p.score) for position, fraud, p in seen if p is not None]
    return ScoreStream.of(*(zip(*kept, strict=True) if kept else ([], [], [])))


def loop_figures(result: DemoResult, first_prediction_at: dict[int, float]) -> dict[str, Any]:
    """Detection delay, the loop's latency split (``first_prediction_at``: each champion
    version's first prediction), and what the loop did."""
    change, delay = result.options.change_at, result.options.label_delay
    alarms = result.of_kind("drift")
    after = [a for a in alarms if change is not None and a.position >= change]
    figures: dict[str, Any] = {
        "alarms": len(alarms),
        "alarms_before_change": len(alarms) - len(after),
        "trainings": [_training(t) for t in result.of_kind("training")],
        "registered": [promotion(r) for r in result.of_kind("registered")],
        "promotions": [promotion(p) for p in result.of_kind("promoted")],
    }
    if not after or change is None:
        return {**figures, "detection": None, "redeploy": None}
    first = after[0]
    alarm = first.event
    assert isinstance(alarm, DriftDetected)
    figures["detection"] = {
        **asdict(detection(change, first.position, delay)),
        "alarm": {k: getattr(alarm, k) for k in ("kind", "signal", "detector", "model_version")},
        "statistic": alarm.statistic,
        "threshold": alarm.threshold,
        # where the monitor placed the change (event time): the trainer's rows start there
        "change_point": alarm.change_point.model_dump(mode="json") if alarm.change_point else None,
        "window": alarm.window.model_dump(mode="json"),
        "change_point_position": _position(result, alarm),
    }
    figures["redeploy"] = redeploy(result, first, first_prediction_at)
    return figures


def redeploy(
    result: DemoResult, alarm: LoopEvent, first_prediction_at: dict[int, float]
) -> dict[str, Any] | None:
    """The turn of the loop the alarm started: the first champion promoted after it, its
    registration and training run, and the first prediction by it."""
    assert isinstance(alarm.event, DriftDetected)
    promoted = next(
        (
            p
            for p in result.of_kind("promoted")
            if isinstance(p.event, ModelPromoted)
            and p.event.alias == "champion"
            and p.timestamp >= alarm.timestamp
            and p.event.version > alarm.event.model_version
        ),
        None,
    )
    if promoted is None:
        return None
    version = promoted.event.version  # type: ignore[union-attr]
    registered = _first(result, "registered", lambda e: e.version == version)
    run_id = registered.event.run_id if registered is not None else None  # type: ignore[union-attr]
    trained = _first(result, "training", lambda e: e.run_id == run_id)
    times = LoopTimes(
        alarm.timestamp,
        trained.timestamp if trained else None,
        registered.timestamp if registered else None,
        promoted.timestamp,
        first_prediction_at.get(version),
    )
    return {"version": version, "run_id": run_id, "seconds": latency_split(times)}


def _first(result: DemoResult, kind: Any, match: Callable[[Any], bool]) -> LoopEvent | None:
    return next((item for item in result.of_kind(kind) if match(item.event)), None)


def _training(item: LoopEvent) -> dict[str, Any]:
    event = item.event
    assert isinstance(event, TrainingCompleted)
    window = event.data_window
    return {
        "run_id": event.run_id,
        "status": event.status,
        "position": item.position,
        "rows": window.row_count if window else None,
        "roc_auc": event.metrics.get("roc_auc"),
        "champion_roc_auc": (event.champion_metrics or {}).get("roc_auc"),
    }


def promotion(item: LoopEvent) -> dict[str, Any]:
    event = item.event
    assert isinstance(event, ModelPromoted | ModelRegistered)
    return {"version": event.version, "position": item.position, "reason": event.reason}


def live_event_times(options: DemoOptions) -> list[datetime]:
    """Event times of the live stream, drawn again from the demo's seeded simulator (the
    history first, the change at the same transaction)."""
    change = options.change_at
    stream = CardTransactions(
        change_at=None if change is None else options.history + change, seed=options.seed
    )
    stream.take(options.history)
    return [t.event.occurred_at for t in stream.take(options.events)]


def _position(result: DemoResult, alarm: DriftDetected) -> int | None:
    """The live position of the alarm's estimated change point (``None``: not placed)."""
    if alarm.change_point is None:
        return None
    times = live_event_times(result.options)
    return bisect.bisect_left(times, alarm.change_point.event_time)
