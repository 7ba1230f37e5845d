"""Live progress of the demo: a refreshed table on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table

__all__ = ["LineProgress", "LiveProgress", "Progress", "Quiet", "Snapshot", "choose_progress"]

LINE_EVERY_S = 5.0  # plain output: one line this often (a log, not an animation)


@dataclass(frozen=True)
class Snapshot:
    """Where the demo stands."""

    phase: str
    events_in: int
    events_total: int
    predictions_out: int
    champion: int | None
    roc_auc: float | None
    recall: float | None
    drift_alarms: int
    trainings: int
    promotions: int
    elapsed_s: float


class Progress(Protocol):
    """Where the runner reports to."""

    def update(self, snapshot: Snapshot) -> None:
        """Show the latest state (called a few times a second)."""

    def note(self, message: str) -> None:
        """Say that something happened (a phase, an alarm, a promotion)."""

    def close(self) -> None:
        """Stop showing progress."""


class Quiet:
    """No output (benchmarks, tests)."""

    def update(self, snapshot: Snapshot) -> None:
        """Ignore it."""

    def note(self, message: str) -> None:
        """Ignore it."""

    def close(self) -> None:
        """Nothing to close."""


class LineProgress:
    """One plain line every few seconds, and notes as they happen (stdout is not a terminal)."""

    def __init__(self) -> None:
        """Print to stdout."""
        self._last = 0.0

    def update(self, snapshot: Snapshot) -> None:
        """Print a line if the last one is old enough."""
        now = time.monotonic()
        if now - self._last >= LINE_EVERY_S:
            self._last = now
            print(_line(snapshot), flush=True)

    def note(self, message: str) -> None:
        """Print it."""
        print(message, flush=True)

    def close(self) -> None:
        """Nothing to close."""


class LiveProgress:
    """A table redrawn in place, with notes printed above it."""

    def __init__(self) -> None:
        """Draw on stdout."""
        self._console = Console()
        self._live = Live(console=self._console, refresh_per_second=4, transient=False)
        self._live.start()

    def update(self, snapshot: Snapshot) -> None:
        """Redraw the table."""
        self._live.update(_table(snapshot))

    def note(self, message: str) -> None:
        """Print above the table."""
        self._console.print(message, highlight=False, markup=False)

    def close(self) -> None:
        """Leave the last table on screen."""
        self._live.stop()


def choose_progress(*, live: bool | None, quiet: bool) -> Progress:
    """The progress display the options and the terminal call for."""
    if quiet:
        return Quiet()
    if live if live is not None else sys.stdout.isatty():
        return LiveProgress()
    return LineProgress()


def _metric(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _rows(s: Snapshot) -> list[tuple[str, str]]:
    return [
        ("phase", s.phase),
        ("events in", f"{s.events_in:,} / {s.events_total:,}"),
        ("predictions out", f"{s.predictions_out:,}"),
        ("champion", "-" if s.champion is None else f"v{s.champion}"),
        ("rolling ROC AUC", _metric(s.roc_auc)),
        ("recall @ 1% FPR", _metric(s.recall)),
        ("drift alarms", str(s.drift_alarms)),
        ("trainings", str(s.trainings)),
        ("promotions", str(s.promotions)),
        ("elapsed", f"{s.elapsed_s:,.0f} s"),
    ]


def _table(snapshot: Snapshot) -> Table:
    table = Table(title="driftloop demo", show_header=False, min_width=44)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for name, value in _rows(snapshot):
        table.add_row(name, value)
    return table


def _line(snapshot: Snapshot) -> str:
    return "  ".join(f"{name}={value}" for name, value in _rows(snapshot)).replace(" / ", "/")
