"""The end of a demo: its rolling curve, summary, JSON file and plot."""

from __future__ import annotations

from dataclasses import dataclass

from driftloop_cli.demo.model import DemoResult
from driftloop_cli.demo.plot import write_plot
from driftloop_cli.demo.quality import RollingPoint, rolling_quality
from driftloop_cli.demo.summary import DemoSummary, summarize, write_summary

__all__ = ["DemoReport", "report"]


@dataclass(frozen=True)
class DemoReport:
    """A run's figures and its rolling quality curve."""

    summary: DemoSummary
    curve: list[RollingPoint]


def report(result: DemoResult) -> DemoReport:
    """Compute the run's figures; write the JSON summary and the plot where the options say."""
    options = result.options
    curve = rolling_quality(result.stream, result.predictions, options.window)
    summary = summarize(result, curve)
    if options.summary is not None:
        write_summary(summary, curve, options.summary)
    if options.plot is not None:
        write_plot(curve, summary, options.plot)
    return DemoReport(summary, curve)
