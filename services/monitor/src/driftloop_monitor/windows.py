"""Live windows and the two-sample tests run on them (data and prediction drift).

A ``LiveWindow`` keeps the last ``size`` rows of the watched columns (a numpy ring buffer)
with each row's event time and where it was read. A ``Watch`` is one detector on one signal:
a numeric column (PSI, KS), a one-hot group as categories (PSI, chi2) or the score; it bins
the window's block of its columns once per test (one ``bin_counts`` per column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftloop_contracts import NumericReference
from driftloop_modeling import (
    bin_counts,
    chi2_pvalue,
    ks_distance,
    one_hot_live_counts,
    one_hot_reference_counts,
    psi,
)

__all__ = ["LiveWindow", "TestResult", "Watch"]


class LiveWindow:
    """The last ``size`` rows of ``columns`` values, with event time, partition and offset."""

    def __init__(self, columns: int, size: int) -> None:
        self._values = np.zeros((size, columns), dtype=np.float64)
        self._where = np.zeros((size, 3), dtype=np.float64)  # event time, partition, offset
        self._next = 0
        self.filled = 0
        self.added = 0

    def extend(self, values: NDArray[np.float64], where: NDArray[np.float64]) -> None:
        """Append rows (oldest first); the oldest rows of the window make room."""
        size = len(self._values)
        values, where = values[-size:], where[-size:]
        slots = (self._next + np.arange(len(values))) % size
        self._values[slots] = values
        self._where[slots] = where
        self._next = int((self._next + len(values)) % size)
        self.filled = min(size, self.filled + len(values))
        self.added += len(values)

    def rows(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the window's values and (time, partition, offset) rows, oldest first."""
        order = (self._next - self.filled + np.arange(self.filled)) % len(self._values)
        return self._values[order], self._where[order]

    def to_state(self) -> dict[str, Any]:
        """Return the window as plain data (its rows, oldest first)."""
        values, where = self.rows()
        return {"values": values.tobytes(), "where": where.tobytes(), "added": self.added}

    @classmethod
    def from_state(cls, columns: int, size: int, state: Mapping[str, Any]) -> LiveWindow:
        """Rebuild a window from ``to_state()``."""
        window = cls(columns, size)
        values = np.frombuffer(state["values"], dtype=np.float64).reshape(-1, columns)
        where = np.frombuffer(state["where"], dtype=np.float64).reshape(-1, 3)
        window.extend(values, where)
        window.added = int(state["added"])
        return window


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test of a watch on the live window."""

    statistic: float
    fired: bool
    reference_mean: float
    live_mean: float


@dataclass(frozen=True, slots=True)
class Watch:
    """A detector on one signal: which window columns, against which reference counts."""

    kind: str
    signal: str
    method: str
    threshold: float
    columns: tuple[int, ...]
    categorical: bool
    edges: tuple[float, ...]
    reference: tuple[int, ...]
    reference_mean: float

    @classmethod
    def build(
        cls,
        kind: str,
        signal: str,
        method: str,
        threshold: float,
        columns: Sequence[tuple[int, NumericReference]],
    ) -> Watch:
        """Build a watch over one numeric column or a one-hot group's columns."""
        references = [reference for _, reference in columns]
        if len(columns) == 1:
            only = references[0]
            middles = np.diff(only.bin_edges) / 2 + np.asarray(only.bin_edges[:-1])
            mean = float(np.dot(middles, only.bin_counts) / max(only.count, 1))
            counts = tuple(only.bin_counts)
        else:
            counts = tuple(int(c) for c in one_hot_reference_counts(references))
            mean = float(np.argmax(counts))
        return cls(
            kind=kind,
            signal=signal,
            method=method,
            threshold=threshold,
            columns=tuple(index for index, _ in columns),
            categorical=len(columns) > 1,
            edges=tuple(references[0].bin_edges),
            reference=counts,
            reference_mean=mean,
        )

    def test(self, block: NDArray[np.float64]) -> TestResult:
        """Test the window's block of this watch's columns against the reference."""
        if self.categorical:
            live = one_hot_live_counts(block[:, list(self.columns)])
            live_mean = float(np.argmax(live))
        else:
            column = block[:, self.columns[0]]
            live = bin_counts(self.edges, column)
            live_mean = float(column.mean())
        statistic = _STATISTICS[self.method](self.reference, live)
        fired = statistic < self.threshold if self.method == "chi2" else statistic >= self.threshold
        return TestResult(statistic, fired, self.reference_mean, live_mean)


_STATISTICS = {"psi": psi, "ks": ks_distance, "chi2": chi2_pvalue}
