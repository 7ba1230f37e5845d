"""Performance drift detectors: a river detector on an error stream, plus where the change began.

``PerformanceDetector`` wraps the river class a ``PerformanceDriftDetector`` spec names (ADWIN,
DDM, KSWIN, PageHinkley) and is fed one error at a time (0/1 for a classifier, the absolute
error for regression). When river says drift, it returns a ``Detection`` with the index (in the
stream it was fed, from 0) of the value that fired and the estimated change point.

The change point is the maximum-likelihood split of the values the detector was judging (since
its last reset; ADWIN: its window just before the cut; at most ``history`` values): the index
that best divides them into two segments of different mean (Bernoulli likelihood for 0/1 errors,
Gaussian otherwise), each at least ``MIN_SEGMENT`` values long. The detectors' own hints are
weaker: river's ADWIN cuts one bucket at the detection and resets at the next value, so its
width says little (measured: 3,072 of 10,239 values cut for a change 239 values back), DDM's
warning zone and PageHinkley's minimum lag the change by the warm-up of a cumulative mean, and
KSWIN knows only that the change is within its last window. The split is within tens of values
of a 0.3% -> 3% change at ADWIN's detection (median of 20 seeded runs), a few hundred at worst.

State: ``to_state()`` is plain BSON-able data with the river object pickled as bytes (river
detectors pickle, and ADWIN's buckets cannot be rebuilt from constructor parameters without
replaying every value since its last reset). Unpickling runs code, so that state may only be
read back from a store the monitor alone writes; a state that does not unpickle (another river
version) starts a fresh detector.
"""

from __future__ import annotations

import importlib
import pickle
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftloop_spec import PerformanceDriftDetector

__all__ = [
    "DEFAULT_HISTORY",
    "MIN_SEGMENT",
    "THRESHOLD_PARAMS",
    "Detection",
    "PerformanceDetector",
    "best_split",
]

DEFAULT_HISTORY = 10_000
"""Most recent values a detector keeps to place a change point."""

MIN_SEGMENT = 30
"""Fewest values on either side of an estimated change point."""

THRESHOLD_PARAMS: dict[str, tuple[str, float]] = {
    "adwin": ("delta", 0.002),
    "ddm": ("drift_threshold", 3.0),
    "kswin": ("alpha", 0.005),
    "page_hinkley": ("threshold", 50.0),
}
"""Per method, the parameter that sets how readily it fires, and river's default for it."""


@dataclass(frozen=True, slots=True)
class Detection:
    """A detector's drift signal and its estimate of where the change began."""

    index: int
    """Position (from 0) in the fed stream of the value at which the detector fired."""
    change_point: int
    """Estimated position of the first changed value (at most ``index``)."""
    before_mean: float
    """Mean of the judged values before the change point."""
    after_mean: float
    """Mean of the values from the change point to the detection."""


class PerformanceDetector:
    """A river drift detector, built from its spec, that locates the changes it detects.

    Args:
        spec: The spec's performance detector (method and river parameters).
        history: Most recent values kept to place a change point.
    """

    def __init__(self, spec: PerformanceDriftDetector, history: int = DEFAULT_HISTORY) -> None:
        module, _, name = spec.river_class.rpartition(".")
        self._spec = spec
        self._river: Any = getattr(importlib.import_module(module), name)(**spec.params)
        self._recent: deque[float] = deque(maxlen=history)
        self._fed = 0
        self._since_reset = 0

    @property
    def method(self) -> str:
        """The detector's method, e.g. ``adwin``."""
        return self._spec.method

    @property
    def threshold(self) -> float:
        """The value of the parameter that sets how readily it fires (``THRESHOLD_PARAMS``)."""
        name, default = THRESHOLD_PARAMS[self._spec.method]
        value = self._spec.params.get(name, default)
        return float(value) if isinstance(value, int | float) else default

    @property
    def fed(self) -> int:
        """Values fed so far."""
        return self._fed

    def update(self, value: float) -> Detection | None:
        """Feed one error; return the detection when the detector fires on it."""
        span = self._span()
        self._river.update(value)
        self._recent.append(value)
        self._fed += 1
        self._since_reset += 1
        if not self._river.drift_detected:
            return None
        detection = self._locate(min(span + 1, len(self._recent)))
        self._since_reset = 0  # river resets itself on the next update
        return detection

    def update_many(self, values: Iterable[float]) -> list[Detection]:
        """Feed errors in order; return the detections they caused."""
        found = (self.update(value) for value in values)
        return [detection for detection in found if detection is not None]

    def to_state(self) -> dict[str, Any]:
        """Return the detector's state as BSON-able data (see the module docstring)."""
        return {
            "method": self._spec.method,
            "params": dict(self._spec.params),
            "river": pickle.dumps(self._river, protocol=pickle.HIGHEST_PROTOCOL),
            "recent": np.asarray(self._recent, dtype=np.float64).tobytes(),
            "history": self._recent.maxlen,
            "fed": self._fed,
            "since_reset": self._since_reset,
        }

    @classmethod
    def from_state(
        cls, spec: PerformanceDriftDetector, state: Mapping[str, Any]
    ) -> PerformanceDetector:
        """Rebuild a detector from ``to_state()``; a state of another spec starts afresh.

        Args:
            spec: The spec's detector, as given to the constructor.
            state: What ``to_state()`` returned, read back from the monitor's own store.
        """
        detector = cls(spec, int(state.get("history", DEFAULT_HISTORY)))
        if state.get("method") != spec.method or state.get("params") != dict(spec.params):
            return detector
        try:
            detector._river = pickle.loads(state["river"])
        except Exception:  # another river version: a fresh detector, the history kept
            detector._since_reset = 0
        else:
            detector._since_reset = int(state["since_reset"])
        detector._recent.extend(np.frombuffer(state["recent"], dtype=np.float64).tolist())
        detector._fed = int(state["fed"])
        return detector

    def _span(self) -> int:
        """How many of the latest values the detector is judging."""
        if self._spec.method == "adwin":
            return int(self._river.width)
        if self._spec.method == "kswin":
            return int(self._river.window_size)
        return self._since_reset

    def _locate(self, span: int) -> Detection:
        judged = np.asarray(list(self._recent)[-span:], dtype=np.float64)
        split = best_split(judged)
        return Detection(
            index=self._fed - 1,
            change_point=self._fed - len(judged) + split,
            before_mean=float(judged[:split].mean()) if split else float("nan"),
            after_mean=float(judged[split:].mean()),
        )


def best_split(values: NDArray[np.float64], min_segment: int = MIN_SEGMENT) -> int:
    """Return the index that best splits ``values`` into two segments of different mean.

    The maximum-likelihood split: Bernoulli likelihood when every value is 0 or 1, Gaussian
    (the standardised difference of the segments' means) otherwise; each segment has at least
    ``min_segment`` values. Fewer than ``2 * min_segment`` values: 0 (the change is older
    than what was kept).

    Args:
        values: The values, oldest first.
        min_segment: Fewest values on either side.
    """
    n = len(values)
    if n < 2 * min_segment:
        return 0
    sums = np.cumsum(values)[:-1]
    left = np.arange(1, n, dtype=np.float64)
    if np.all((values == 0) | (values == 1)):
        score = _bernoulli(sums, left) + _bernoulli(sums[-1] + values[-1] - sums, n - left)
    else:
        total = float(values.sum())
        score = np.abs(n * sums - left * total) / np.sqrt(left * (n - left) * n)
    score[: min_segment - 1] = -np.inf
    score[n - min_segment :] = -np.inf
    return int(np.argmax(score)) + 1


def _bernoulli(ones: NDArray[np.float64], count: NDArray[np.float64]) -> NDArray[np.float64]:
    """Log-likelihood of ``ones`` successes in ``count`` trials at their own rate."""
    rate = np.clip(ones / count, 1e-12, 1 - 1e-12)
    likelihood: NDArray[np.float64] = ones * np.log(rate) + (count - ones) * np.log1p(-rate)
    return likelihood
