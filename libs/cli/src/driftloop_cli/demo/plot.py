"""The demo's picture: the rolling quality of the served predictions over the stream, with the
drift onset, the detection and each promotion marked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The object-oriented API: a Figure renders with the Agg backend when saved, with no pyplot
# state, no display and no GUI toolkit.
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from driftloop_cli.demo.quality import RollingPoint
from driftloop_cli.demo.summary import RECOVERY_POINTS, DemoSummary

__all__ = ["write_plot"]


def write_plot(curve: Sequence[RollingPoint], summary: DemoSummary, path: Path) -> None:
    """Draw ``curve`` with the summary's marks into a PNG at ``path``."""
    figure = Figure(figsize=(12, 5), dpi=110)
    axes = figure.subplots()
    _curves(axes, curve, summary)
    _marks(axes, summary)
    axes.set_xlabel("live transaction (stream order)")
    axes.set_ylabel(f"rolling over the last {summary.window:,} champion predictions")
    axes.set_ylim(0, 1.02)
    axes.set_title("driftloop demo: quality of the served predictions")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")


def _curves(axes: Axes, curve: Sequence[RollingPoint], summary: DemoSummary) -> None:
    positions = [p.position for p in curve]
    axes.plot(positions, [_nan(p.roc_auc) for p in curve], color="tab:blue", label="ROC AUC")
    axes.plot(
        positions,
        [_nan(p.recall) for p in curve],
        color="tab:purple",
        alpha=0.6,
        label="recall at 1% FPR",
    )
    level = summary.pre_change_level
    if level is not None:
        axes.axhspan(
            level - RECOVERY_POINTS,
            min(level + RECOVERY_POINTS, 1.0),
            color="tab:blue",
            alpha=0.12,
            label=f"pre-change ROC AUC ±{RECOVERY_POINTS * 100:.0f} points",
        )


def _marks(axes: Axes, summary: DemoSummary) -> None:
    if summary.change_at is not None:
        axes.axvline(summary.change_at, color="tab:red", linestyle="--", label="drift onset")
    if summary.detection is not None:
        axes.axvline(
            summary.detection.position, color="tab:orange", linestyle="-.", label="drift detected"
        )
    for n, promoted in enumerate(summary.promoted):
        axes.axvline(
            promoted["position"],
            color="tab:green",
            linestyle=":",
            label="promotion" if n == 0 else None,
        )
        axes.annotate(
            f"v{promoted['version']}",
            (promoted["position"], 1.0),
            xytext=(3, -12),
            textcoords="offset points",
            color="tab:green",
        )


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value
