"""What the monitor holds per served champion: watches, windows, detectors, alarms, metrics.

Built from the spec's drift policy and the version's reference; thrown away when another
version becomes champion (the monitor resets its references with the model).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from driftloop_contracts import NumericReference
from driftloop_modeling import SCORE_REFERENCE, PerformanceDetector
from driftloop_modeling.detectors import DEFAULT_HISTORY
from driftloop_monitor.alarms import Alarms
from driftloop_monitor.reports import Rolling
from driftloop_monitor.windows import LiveWindow, Watch
from driftloop_spec import (
    DataDriftDetector,
    DatasetSpec,
    PerformanceDriftDetector,
    PredictionDriftDetector,
)

__all__ = ["Champion", "data_watches"]


def data_watches(
    spec: DatasetSpec, reference: Mapping[str, NumericReference]
) -> tuple[list[str], list[Watch], list[str]]:
    """Return the watched columns, a watch per (detector, feature) and what was skipped (why).

    A one-hot feature is categorical (PSI, chi2); any other numeric (PSI, KS). A feature whose
    columns have no reference is skipped.
    """
    columns: list[str] = []
    watches: list[Watch] = []
    skipped: list[str] = []
    for detector in spec.drift.detectors:
        if not isinstance(detector, DataDriftDetector):
            continue
        wanted = set(detector.features) if detector.features != "all" else None
        for feature in spec.features:
            if wanted is not None and feature.name not in wanted:
                continue
            names = feature.columns()
            categorical = feature.transform == "one_hot"
            if (detector.method == "ks" and categorical) or (
                detector.method == "chi2" and not categorical
            ):
                skipped.append(f"{detector.method}/{feature.name}: not for this kind of feature")
                continue
            if any(name not in reference for name in names):
                skipped.append(f"{detector.method}/{feature.name}: no reference")
                continue
            indices = [_index(columns, name) for name in names]
            pairs = [(i, reference[name]) for i, name in zip(indices, names, strict=True)]
            watches.append(
                Watch.build("data", feature.name, detector.method, detector.threshold, pairs)
            )
    return columns, watches, skipped


def _index(columns: list[str], name: str) -> int:
    if name not in columns:
        columns.append(name)
    return columns.index(name)


class Champion:
    """The monitor's state for one champion version."""

    def __init__(
        self,
        spec: DatasetSpec,
        version: int,
        reference: Mapping[str, NumericReference],
        live_window: int,
        rolling_window: int,
    ) -> None:
        self.version = version
        self._live_window = live_window
        self.take_reference(spec, reference)
        self.detectors = [
            PerformanceDetector(d)
            for d in spec.drift.detectors
            if isinstance(d, PerformanceDriftDetector)
        ]
        # Event time, partition and offset of the recent values fed to the detectors.
        self.fed: deque[tuple[float, int, int]] = deque(maxlen=DEFAULT_HISTORY)
        self.alarms = Alarms(spec.drift.cooldown, spec.drift.min_post_change_labels)
        self.rolling = Rolling(rolling_window)
        self.last: dict[str, float] = {}

    def take_reference(self, spec: DatasetSpec, reference: Mapping[str, NumericReference]) -> None:
        """Watch the data and scores against ``reference``: new watches and empty windows (the
        detectors, alarms and rolling metrics are the version's and stay)."""
        self.reference = dict(reference)
        self.columns, self.watches, self.skipped = data_watches(spec, reference)
        self.window = LiveWindow(max(1, len(self.columns)), self._live_window)
        self.score_watches = [
            Watch.build("prediction", "score", d.method, d.threshold, [(0, score)])
            for d in spec.drift.detectors
            if isinstance(d, PredictionDriftDetector)
            and (score := reference.get(SCORE_REFERENCE)) is not None
        ]
        self.scores = LiveWindow(1, self._live_window)

    def to_state(self) -> dict[str, Any]:
        """Return the champion's state as plain data (the river detectors pickled)."""
        return {
            "version": self.version,
            "reference": {k: v.model_dump(mode="json") for k, v in self.reference.items()},
            "columns": list(self.columns),
            "window": self.window.to_state(),
            "scores": self.scores.to_state(),
            "detectors": [d.to_state() for d in self.detectors],
            "fed": [list(row) for row in self.fed],
            "alarms": self.alarms.to_state(),
            "rolling": self.rolling.to_state(),
            "last": dict(self.last),
        }

    @classmethod
    def from_state(
        cls, spec: DatasetSpec, live_window: int, rolling_window: int, state: Mapping[str, Any]
    ) -> Champion:
        """Rebuild from ``to_state()`` (under the same or a new spec)."""
        reference = {k: NumericReference.model_validate(v) for k, v in state["reference"].items()}
        champion = cls(spec, state["version"], reference, live_window, rolling_window)
        width = max(1, len(champion.columns))
        if state.get("columns") == champion.columns:  # another spec's columns: a fresh window
            champion.window = LiveWindow.from_state(width, live_window, state["window"])
        champion.scores = LiveWindow.from_state(1, live_window, state["scores"])
        specs = [d for d in spec.drift.detectors if isinstance(d, PerformanceDriftDetector)]
        if len(specs) == len(state["detectors"]):
            champion.detectors = [
                PerformanceDetector.from_state(d, s)
                for d, s in zip(specs, state["detectors"], strict=True)
            ]
        champion.fed.extend((at, p, o) for at, p, o in state["fed"])
        champion.alarms = Alarms.from_state(
            spec.drift.cooldown, spec.drift.min_post_change_labels, state["alarms"]
        )
        champion.rolling = Rolling.from_state(rolling_window, state["rolling"])
        champion.last.update(state["last"])
        return champion
