"""The figures of a demo run: throughput, latency, detection delay, recovery, versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np

from driftloop_cli.demo.model import DemoResult, LoopEvent
from driftloop_cli.demo.quality import RollingPoint, rolling_quality
from driftloop_contracts import ModelPromoted, ModelRegistered, TrainingCompleted

__all__ = [
    "RECOVERY_POINTS",
    "DemoSummary",
    "Detection",
    "detection",
    "latency_percentiles",
    "pre_change_level",
    "recovery_position",
    "render",
    "summarize",
    "write_summary",
]

RECOVERY_POINTS = 0.02
"""The rolling metric has recovered when it is within this much (2 points) of its pre-change
level."""


@dataclass(frozen=True)
class Detection:
    """The first drift alarm after the change."""

    position: int
    """Live transactions published when the alarm was seen."""
    delay_events: int
    """Transactions published after the change before the alarm was seen."""
    delay_labelled: int
    """Post-change transactions whose outcome was published before the alarm was seen."""
    kind: str
    signal: str


@dataclass(frozen=True)
class DemoSummary:
    """What ``driftloop demo`` prints at the end and writes as JSON."""

    events: int
    predicted: int
    change_at: int | None
    label_delay: int
    rate_offered: float
    throughput: float
    """Live transactions published per second, as played."""
    latency_s: dict[str, float]
    """Publish -> champion prediction received: p50, p95, p99 (seconds)."""
    metric: str
    window: int
    """Champion predictions the rolling metric is computed over."""
    pre_change_level: float | None
    """Mean rolling ROC AUC over the windows that end before the change."""
    final_level: float | None
    detection: Detection | None
    false_alarms: int
    """Drift alarms seen before the change (or at all, on a stream without one)."""
    events_to_recovery: int | None
    """Transactions from the change until the rolling metric is back within 2 points of its
    pre-change level after it fell below it (0: it never fell; ``None``: it did not recover)."""
    trainings: int
    """Successful training runs seen (the first model's included)."""
    registered: list[int]
    """Versions registered, in the order seen."""
    promoted: list[dict[str, Any]]
    """Each champion promotion: version and the stream position when seen."""

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return asdict(self)


def summarize(result: DemoResult, curve: Sequence[RollingPoint] | None = None) -> DemoSummary:
    """The summary of ``result`` (``curve``: its rolling quality, computed when not given)."""
    options = result.options
    points = (
        curve
        if curve is not None
        else rolling_quality(result.stream, result.predictions, options.window)
    )
    change = options.change_at
    level = pre_change_level(points, change)
    alarms = result.of_kind("drift")
    return DemoSummary(
        events=len(result.stream),
        predicted=len(result.predictions),
        change_at=change,
        label_delay=options.label_delay,
        rate_offered=options.rate,
        throughput=len(result.stream) / max(result.finished_at - result.started_at, 1e-9),
        latency_s=latency_percentiles(result),
        metric="roc_auc",
        window=options.window,
        pre_change_level=level,
        final_level=points[-1].roc_auc if points else None,
        detection=detection(alarms, change, options.label_delay),
        false_alarms=sum(1 for a in alarms if change is None or a.position < change),
        events_to_recovery=recovery_position(points, change, level),
        trainings=sum(
            1
            for e in result.of_kind("training")
            if isinstance(e.event, TrainingCompleted) and e.event.status == "succeeded"
        ),
        registered=[
            e.event.version
            for e in result.of_kind("registered")
            if isinstance(e.event, ModelRegistered)
        ],
        promoted=[
            {"version": e.event.version, "position": e.position}
            for e in result.of_kind("promoted")
            if isinstance(e.event, ModelPromoted) and e.event.alias == "champion"
        ],
    )


def latency_percentiles(result: DemoResult) -> dict[str, float]:
    """Publish -> prediction received, in seconds, at the 50th, 95th and 99th percentiles."""
    seen = result.predictions
    waits = [
        seen[e.event_id].received_at - e.published_at for e in result.stream if e.event_id in seen
    ]
    if not waits:
        return {}
    values = np.percentile(waits, [50, 95, 99])
    return {name: round(float(v), 4) for name, v in zip(("p50", "p95", "p99"), values, strict=True)}


def pre_change_level(points: Sequence[RollingPoint], change: int | None) -> float | None:
    """Mean rolling metric of the windows that end before ``change`` (all, without one)."""
    before = [
        p.roc_auc
        for p in points
        if p.roc_auc is not None and (change is None or p.position < change)
    ]
    return fmean(before) if before else None


def detection(
    alarms: Sequence[LoopEvent], change: int | None, label_delay: int
) -> Detection | None:
    """The first alarm seen at or after the change."""
    after = [a for a in alarms if change is not None and a.position >= change]
    if not after or change is None:
        return None
    first = after[0]
    labelled = max(0, first.position - label_delay - change)
    kind, signal = getattr(first.event, "kind", "?"), getattr(first.event, "signal", "?")
    return Detection(first.position, first.position - change, labelled, kind, signal)


def recovery_position(
    points: Sequence[RollingPoint], change: int | None, level: float | None
) -> int | None:
    """Transactions after ``change`` until the metric, having fallen more than 2 points below
    ``level``, is back within 2 points; 0 when it never fell; ``None`` when it stayed down."""
    if change is None or level is None:
        return None
    floor = level - RECOVERY_POINTS
    after = [p for p in points if p.position >= change and p.roc_auc is not None]
    dip = next(
        (i for i, p in enumerate(after) if p.roc_auc is not None and p.roc_auc < floor), None
    )
    if dip is None:
        return 0
    back = next((p for p in after[dip:] if p.roc_auc is not None and p.roc_auc >= floor), None)
    return None if back is None else back.position - change


def write_summary(summary: DemoSummary, curve: Sequence[RollingPoint], path: Path) -> None:
    """Write the summary and the rolling curve as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**summary.to_json(), "rolling": [asdict(p) for p in curve]}
    path.write_text(json.dumps(document, indent=2) + "\n")


def render(summary: DemoSummary) -> list[str]:
    """The summary as lines for a terminal."""
    lat, found = summary.latency_s, summary.detection
    lines = [
        f"events            {summary.events:,} live ({summary.predicted:,} predicted), "
        f"{summary.throughput:,.0f}/s played ({summary.rate_offered:g}/s offered)",
        "latency           publish -> prediction "
        + ", ".join(f"{k} {v * 1000:,.0f} ms" for k, v in lat.items()),
        f"{summary.metric:17} {_num(summary.pre_change_level)} before the change, "
        f"{_num(summary.final_level)} at the end (rolling, last window)",
    ]
    if summary.change_at is None:
        lines.append("drift             none in the stream")
    else:
        lines.append(f"drift onset       transaction {summary.change_at:,}")
        lines.append(
            "detection         none seen"
            if found is None
            else f"detection         {found.delay_events:,} transactions after the change "
            f"({found.delay_labelled:,} labelled), {found.kind} drift on {found.signal}"
        )
        recovery = summary.events_to_recovery
        lines.append(
            "recovery          "
            + ("not within the stream" if recovery is None else f"{recovery:,} transactions")
            + f" (rolling {summary.metric} within 2 points of its pre-change level)"
        )
    lines.append(f"false alarms      {summary.false_alarms}")
    promoted = ", ".join(f"v{p['version']} at {p['position']:,}" for p in summary.promoted)
    lines.append(
        f"versions          {summary.trainings} trained, registered "
        f"{', '.join(f'v{v}' for v in summary.registered) or '-'}; promoted {promoted or '-'}"
    )
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
