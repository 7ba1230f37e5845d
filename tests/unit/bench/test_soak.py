"""The soak's memory figures: the midpoint and end are the first samples past N/2 and N, the
slope is fitted over the second half, and ``flat`` holds a step at either end but not a climb."""

from __future__ import annotations

import pytest

from bench.soak import Sample, at_least, memory_figures, series

pytestmark = pytest.mark.unit

EVENTS = 100_000


def run(rss: list[float], step: int = 10_000) -> list[Sample]:
    """One sample per ``step`` predictions, the service's RSS as given."""
    return [Sample(n * 1.0, n * step, n * step, {"scorer": mib}) for n, mib in enumerate(rss)]


def test_the_midpoint_and_end_are_the_first_samples_past_them() -> None:
    samples = run([100.0 + n for n in range(12)], step=9_000)
    assert at_least(samples, EVENTS / 2) == 6  # 54,000: the first at or past 50,000
    assert at_least(samples, EVENTS) == 11  # 99,000 never reached 100,000: the last one
    figures = memory_figures(samples, "scorer", EVENTS, peak=120.0)
    assert (figures["rss_at_midpoint_mib"], figures["rss_at_end_mib"]) == (106.0, 111.0)
    assert figures["peak_rss_mib"] == 120.0


def test_a_steady_climb_over_the_second_half_is_not_flat() -> None:
    climbing = run([200.0] * 6 + [203.0, 206.0, 209.0, 212.0, 215.0])
    figures = memory_figures(climbing, "scorer", EVENTS, peak=215.0)
    assert figures["slope_mib_per_100k_events"] == pytest.approx(30.0)
    assert figures["second_half_growth_mib"] == 15.0
    assert not figures["flat"]


def test_a_level_run_with_one_late_step_is_flat() -> None:
    stepped = run([200.0] * 10 + [206.0])
    figures = memory_figures(stepped, "scorer", EVENTS, peak=206.0)
    assert figures["fitted_second_half_growth_mib"] < 0.05 * 200
    assert figures["flat"]


def test_the_series_keeps_evenly_spaced_samples_and_the_last() -> None:
    samples = run([100.0 + n for n in range(1_001)], step=1)
    kept = series(samples)
    assert len(kept["seconds"]) <= 201
    assert (kept["predicted"][0], kept["predicted"][-1]) == (0, 1_000)
    assert kept["rss_mib"]["scorer"][-1] == 1_100.0
