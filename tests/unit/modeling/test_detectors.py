"""Performance detectors: they fire on an abrupt error-rate change, place it, and stay quiet
on a stationary stream; their state survives a round trip."""

from __future__ import annotations

import numpy as np
import pytest

from driftloop_modeling.detectors import PerformanceDetector, best_split
from driftloop_spec import PerformanceDriftDetector

pytestmark = pytest.mark.unit

CHANGE = 5_000


def _detector(method: str, **params: object) -> PerformanceDetector:
    spec = PerformanceDriftDetector(signal="performance", method=method, params=params)
    return PerformanceDetector(spec)


def _errors(seed: int, before: float, after: float, n: int = 20_000) -> list[float]:
    rng = np.random.default_rng(seed)
    rates = np.where(np.arange(n) < CHANGE, before, after)
    errors: list[float] = (rng.random(n) < rates).astype(np.float64).tolist()
    return errors


@pytest.mark.parametrize(
    ("method", "params", "before", "after"),
    [
        ("adwin", {"delta": 0.002}, 0.005, 0.05),
        ("ddm", {}, 0.005, 0.05),
        ("page_hinkley", {}, 0.005, 0.05),
        ("page_hinkley", {"mode": "up", "threshold": 10.0}, 0.003, 0.03),
        # KSWIN's own rule needs a KS distance above 0.1: on 0/1 errors, a rate that moves by
        # more than 10 points (a balanced classifier going bad), within its window.
        ("kswin", {"window_size": 500, "stat_size": 100, "seed": 1}, 0.05, 0.3),
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_detector_fires_after_an_abrupt_change_and_places_it(
    method: str, params: dict[str, object], before: float, after: float, seed: int
) -> None:
    detector = _detector(method, **params)
    detections = detector.update_many(_errors(seed, before, after, n=CHANGE + 3_000))
    after_change = [d for d in detections if d.index >= CHANGE]
    assert after_change, f"{method} missed the change"
    first = after_change[0]
    assert abs(first.change_point - CHANGE) < 300
    assert first.change_point <= first.index
    assert first.after_mean > first.before_mean


@pytest.mark.parametrize("rate", [0.005, 0.03])
@pytest.mark.parametrize("seed", [11, 12])
def test_adwin_stays_silent_on_a_stationary_stream(rate: float, seed: int) -> None:
    detector = _detector("adwin", delta=0.002)
    assert detector.update_many(_errors(seed, rate, rate)) == []
    assert detector.fed == 20_000


def test_the_state_round_trip_continues_exactly_where_it_stopped() -> None:
    errors = _errors(5, 0.005, 0.05, n=CHANGE + 2_000)
    whole = _detector("adwin", delta=0.002).update_many(errors)
    first = _detector("adwin", delta=0.002)
    first.update_many(errors[:4_000])
    spec = PerformanceDriftDetector(signal="performance", method="adwin", params={"delta": 0.002})
    restored = PerformanceDetector.from_state(spec, first.to_state())
    assert restored.update_many(errors[4_000:]) == whole
    assert restored.fed == len(errors)


def test_a_state_of_another_spec_starts_afresh() -> None:
    old = _detector("adwin", delta=0.002)
    old.update_many([0.0] * 100)
    spec = PerformanceDriftDetector(signal="performance", method="adwin", params={"delta": 0.01})
    assert PerformanceDetector.from_state(spec, old.to_state()).fed == 0


def test_the_state_is_bounded_by_the_history() -> None:
    detector = _detector("adwin", delta=0.002)
    detector.update_many(_errors(3, 0.01, 0.01, n=30_000))
    state = detector.to_state()
    assert len(state["recent"]) == 8 * 10_000
    assert len(state["river"]) < 20_000


def test_the_threshold_is_the_parameter_that_sets_sensitivity() -> None:
    assert _detector("adwin", delta=0.01).threshold == 0.01
    assert _detector("page_hinkley").threshold == 50.0


def test_best_split_on_a_numeric_stream_and_on_too_few_values() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate((rng.normal(1, 0.5, 700), rng.normal(2, 0.5, 300)))
    assert abs(best_split(values) - 700) < 20
    assert best_split(values[:50]) == 0
