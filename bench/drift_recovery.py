"""Drift recovery of the closed loop against two baselines, the drift-to-redeploy latency and
the false alarms of the configured detectors, in one run.

Two demo runs (``driftloop_cli.demo.run_demo``, each on its own embedded stack with the six
services, in a temporary folder; stopped at the end): the fraud spec applied, ``--history``
labelled transactions, version 1 trained and served, then ``--events`` live transactions at
``--rate`` whose fraud pattern changes at ``--drift-at`` (half-way by default), each outcome
published ``--label-delay`` transactions later. The second run plays a stream of the same length
with no change.

On the drifting run:

1. The system: the champion predictions a downstream consumer read, scored with the simulator's
   truth. Detection delay: live transactions published after the change when the first ``drift
   detected`` after it was read (the pipeline's lag included), and how many of them had their
   outcome published by then. The rolling ROC AUC over 1,000 predictions in stream order, its
   pre-change level (mean of the windows ending before the change), and the events after the
   change until it is back within 2 points and stays there for a window (``bench.prequential``).
   The prequential metrics over the whole stream: ROC AUC and recall at 1% false-positive rate.
2. Baselines on the features as served (``driftloop.features.v1`` of the run, in stream order):
   version 1 never retrained (its artifact from the store, verified as the scorer does) and
   river's ``ARFClassifier`` learning online from the history, each label learnt
   ``--label-delay`` events after its transaction (``bench.online``). The same figures, on the
   same events (those the system scored).
3. Drift-to-redeploy latency from Kafka record timestamps: the first ``drift detected`` after the
   change → the training run of the first version promoted after it → its registration → its
   promotion → the first prediction by it.

On the stationary run: the ``drift detected`` events (false alarms), by detector.

    uv run python -m bench.drift_recovery            # the full run (~6-8 minutes on 2 cores)
    uv run python -m bench.drift_recovery --quick    # a short one, to try the script
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.drift_loop import loop_figures, promotion, served, services
from bench.drift_run import RunData, read_run
from bench.online import arf_scores
from bench.prequential import (
    ScoreStream,
    prequential_metrics,
    recovery,
    rolling_auc,
)
from bench.runtime_relay import table, versions
from driftloop_cli.demo import (
    DemoError,
    DemoOptions,
    DemoOptionsError,
    DemoResult,
    interrupt_on_sigterm,
    run_demo,
)
from driftloop_contracts import DriftDetected

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "drift_recovery.json"
MODELS = ("system", "first_model", "arf")

Say = Callable[[str], None]


def demo_options(args: argparse.Namespace, home: Path, *, drift: bool) -> DemoOptions:
    return DemoOptions(
        events=args.events,
        drift_at=args.drift_at if drift else None,
        no_drift=not drift,
        rate=args.rate,
        label_delay=args.label_delay,
        history=args.history,
        plot=None,
        summary=None,
        home=home,
        spec=REPO / "specs" / "fraud.yaml",
        keep_stack=drift,  # its features, history and first model are read before it stops
        quiet=True,
    )


def drifting_run(options: DemoOptions, say: Say) -> dict[str, Any]:
    """Play the stream with a change, read what the baselines need, stop, compute."""
    say(f"drifting run: {options.events:,} events, change at {options.change_at:,}")
    result = run_demo(options)
    assert result.stack_handle is not None  # keep_stack=True
    try:
        say("reading the run's features, history, version 1 and predictions")
        data = asyncio.run(read_run(result))
    finally:
        result.stack_handle.stop()
    say(f"ARF learning online over {len(data.history[1]):,} + {len(data.positions):,} rows")
    began = time.perf_counter()
    figures = quality(result, data)
    figures["arf_seconds"] = round(time.perf_counter() - began, 1)
    return {
        "services": services(result),
        "complete": result.complete,
        "predictions": len(result.predictions),
        "live_seconds": round(result.finished_at - result.started_at, 1),
        **figures,
        **loop_figures(result, data.first_prediction_at),
        "offline_label_lag": label_lag(data.label_lag_s, result.options.rate),
    }


def quality(result: DemoResult, data: RunData) -> dict[str, Any]:
    """Prequential metrics and recovery of the system and both baselines, on the events the
    system scored that have a served vector."""
    change = result.options.change_at
    truth = np.array([e.is_fraud for e in result.stream], dtype=np.bool_)[data.positions]
    arf = arf_scores(data.names, data.history, (data.matrix, truth), result.options.label_delay)
    system = served(result)
    common = np.intersect1d(system.positions, data.positions)
    streams = {
        "system": system.only(common),
        "first_model": ScoreStream.of(data.positions, truth, data.first_model_scores).only(common),
        "arf": ScoreStream.of(data.positions, truth, arf).only(common),
    }
    figures: dict[str, Any] = {"events_compared": len(common)}
    for name, stream in streams.items():
        figures[name] = {"prequential": prequential_metrics(stream)}
        if change is not None:
            after = stream.only(stream.positions[stream.positions >= change])
            figures[name]["prequential_after_change"] = prequential_metrics(after)
            rolling = rolling_auc(stream)
            figures[name]["recovery"] = asdict(recovery(rolling, change))
            figures[name]["rolling_auc"] = [
                [int(p), None if np.isnan(v) else round(float(v), 3)]
                for p, v in zip(rolling.positions, rolling.values, strict=True)
            ]
    return figures


def label_lag(lags: NDArray[np.float64], rate: float) -> dict[str, Any] | None:
    """How far the offline store's labels trailed their topic: seconds at the median, the 99th
    percentile and worst, and the worst as events of the stream (at ``rate``)."""
    if len(lags) == 0:
        return None
    p50, p99, worst = (float(np.quantile(lags, q)) for q in (0.5, 0.99, 1.0))
    return {
        "labels": len(lags),
        "seconds": {"p50": round(p50, 3), "p99": round(p99, 3), "max": round(worst, 3)},
        "max_events_behind": round(worst * rate),
    }


def stationary_run(options: DemoOptions, say: Say) -> dict[str, Any]:
    """The same length of stream with no change: every ``drift detected`` is a false alarm."""
    say(f"stationary run: {options.events:,} events, no change")
    result = run_demo(options)
    alarms = [a.event for a in result.of_kind("drift") if isinstance(a.event, DriftDetected)]
    by = Counter(f"{a.kind}/{a.signal}/{a.detector}" for a in alarms)
    return {
        "services": services(result),
        "complete": result.complete,
        "predictions": len(result.predictions),
        "false_alarms": len(alarms),
        "false_alarms_by_detector": dict(by),
        "first_false_alarm_positions": [a.position for a in result.of_kind("drift")][:10],
        "promotions": [promotion(p) for p in result.of_kind("promoted")],
    }


def targets(drift: dict[str, Any], stationary: dict[str, Any]) -> dict[str, bool | None]:
    """The issue's targets: met or not (never asserted); ``None``: not measurable (no monitor
    in the stack, so no detector could raise an alarm, false or not)."""
    watched = "monitor" in stationary["services"]
    detected, redeployed = drift.get("detection"), drift.get("redeploy")
    lag = drift.get("offline_label_lag")
    total = redeployed["seconds"]["total"] if redeployed else None
    figures = {name: drift[name]["prequential"] for name in MODELS}
    return {
        "detection_within_2000_labelled_events": detected is not None
        and detected["labelled_events"] <= 2_000,
        "no_false_alarm_on_stationary_stream": stationary["false_alarms"] == 0 if watched else None,
        "drift_to_redeploy_under_60_s": total is not None and total < 60,
        "offline_label_backlog_under_2_s": lag is not None and lag["seconds"]["max"] < 2,
        **{
            f"prequential_{metric}_above_both_baselines": all(
                (figures["system"][metric] or 0) > (figures[b][metric] or 0)
                for b in ("first_model", "arf")
            )
            for metric in ("roc_auc", "recall_at_1pct_fpr")
        },
    }


def report(result: dict[str, Any]) -> str:
    """The figures as a table, then the loop's, then the targets."""
    drift = result["drifting"]
    rows = [
        (
            "model",
            "ROC AUC",
            "recall@1%FPR",
            "AUC after change",
            "pre-change",
            "lowest",
            "events to recover",
        )
    ]
    for name in MODELS:
        m = drift[name]
        found = m.get("recovery") or {}
        rows.append(
            (
                name,
                str(m["prequential"]["roc_auc"]),
                str(m["prequential"]["recall_at_1pct_fpr"]),
                str((m.get("prequential_after_change") or {}).get("roc_auc")),
                str(found.get("level")),
                str(found.get("lowest")),
                "never"
                if found.get("dropped") and found.get("events") is None
                else f"{found.get('events')}",
            )
        )
    lines = [f"on {drift['events_compared']:,} events scored by the system:", *table(rows)]
    detected = drift["detection"]
    lines.append(
        "detection: none after the change"
        if detected is None
        else f"detection: {detected['events']:,} events after the change "
        f"({detected['labelled_events']:,} labelled), by {detected['alarm']}"
    )
    redeployed = drift["redeploy"]
    lines.append(
        "redeploy: no new champion after the alarm"
        if redeployed is None
        else f"redeploy of v{redeployed['version']}: "
        + ", ".join(f"{k} {v} s" for k, v in redeployed["seconds"].items())
    )
    lag = drift.get("offline_label_lag")
    lines.append(
        "offline store: no live label stored"
        if lag is None
        else f"offline store's labels behind their topic: {lag['seconds']} s, "
        f"at worst {lag['max_events_behind']:,} events"
    )
    still = result["stationary"]
    lines.append(
        f"false alarms on the stationary stream: {still['false_alarms']} "
        f"{still['false_alarms_by_detector'] or ''}"
    )
    lines.append(f"targets: {json.dumps(result['targets'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="drift recovery of the closed loop")
    parser.add_argument("--events", type=int, default=30_000, help="live transactions per run")
    parser.add_argument("--drift-at", type=int, default=None, help="change point (half-way)")
    # slower than the demo's 250/s: a retraining takes about a minute of wall clock from the
    # alarm to a new champion, and the stream must outlast that and the recovery after it
    parser.add_argument("--rate", type=float, default=150.0, help="live transactions per second")
    parser.add_argument("--label-delay", type=int, default=250, help="transactions until a label")
    parser.add_argument("--history", type=int, default=3_000, help="labelled transactions first")
    parser.add_argument("--quick", action="store_true", help="a short run, to try the script")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON file to write")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.rate = 8_000, 200.0
    try:
        demo_options(args, Path(), drift=True).validate()
    except DemoOptionsError as error:
        parser.error(str(error))
    interrupt_on_sigterm()  # a stopped benchmark stops the stack it started
    work = Path(tempfile.mkdtemp(prefix="driftloop-bench-drift-"))
    began, load_before = time.monotonic(), os.getloadavg()[0]

    def say(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {message}", flush=True)

    try:
        drift = drifting_run(demo_options(args, work / "drift", drift=True), say)
        stationary = stationary_run(demo_options(args, work / "stationary", drift=False), say)
    except DemoError as error:
        sys.exit(f"the demo run failed: {error}")
    finally:
        if args.keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    options = demo_options(args, work, drift=True)
    result = {
        "benchmark": "drift_recovery",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: getattr(args, k) for k in ("events", "rate", "label_delay", "history")}
        | {"drift_at": options.change_at, "quick": args.quick},
        "drifting": drift,
        "stationary": stationary,
        "targets": targets(drift, stationary),
        "wall_seconds": round(time.monotonic() - began, 1),
        "load_average_1m": {"start": load_before, "end": os.getloadavg()[0]},
        "versions": versions(),
        "cpus": os.cpu_count(),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"written to {args.results}")


if __name__ == "__main__":
    main(sys.argv[1:])
