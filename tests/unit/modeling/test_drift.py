"""Drift statistics: textbook values on hand-checked cases, ~0 on identical, large on shifted."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from driftloop_modeling.drift import (
    PSI_EPSILON,
    chi2_pvalue,
    chi2_statistic,
    chi2_survival,
    ks_distance,
    one_hot_live_counts,
    one_hot_reference_counts,
    psi,
)
from driftloop_modeling.reference import bin_counts, numeric_reference

pytestmark = pytest.mark.unit


def test_psi_of_a_hand_checked_case() -> None:
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi([50, 50], [25, 75]) == pytest.approx(expected)


def test_psi_floors_an_empty_bin_instead_of_going_infinite() -> None:
    value = psi([50, 50], [100, 0])
    floor = PSI_EPSILON
    full = (1 - 0.5) * math.log(1 / 0.5)
    empty = (floor - 0.5) * math.log(floor / 0.5)
    assert value == pytest.approx(full + empty)
    assert math.isfinite(value)


def test_ks_distance_is_the_largest_gap_between_the_cumulative_shares() -> None:
    assert ks_distance([5, 5], [10, 0]) == pytest.approx(0.5)
    assert ks_distance([1, 1, 1, 1], [0, 0, 2, 2]) == pytest.approx(0.5)


def test_chi2_matches_the_textbook_contingency_test() -> None:
    statistic, dof = chi2_statistic([10, 20], [20, 10])
    assert statistic == pytest.approx(60 / 9)  # four cells of (5^2 / 15)
    assert dof == 1
    expected = stats.chi2_contingency([[10, 20], [20, 10]], correction=False).pvalue
    assert chi2_pvalue([10, 20], [20, 10]) == pytest.approx(expected)


def test_chi2_leaves_out_categories_empty_on_both_sides() -> None:
    assert chi2_statistic([10, 0, 20], [20, 0, 10]) == chi2_statistic([10, 20], [20, 10])
    assert chi2_pvalue([10, 0], [5, 0]) == 1.0


@pytest.mark.parametrize("dof", [1, 2, 3, 7, 30, 200])
@pytest.mark.parametrize("statistic", [0.0, 0.01, 0.5, 1.0, 3.84, 10.0, 50.0, 400.0])
def test_chi2_survival_agrees_with_scipy(statistic: float, dof: int) -> None:
    assert chi2_survival(statistic, dof) == pytest.approx(
        stats.chi2.sf(statistic, dof), rel=1e-9, abs=1e-300
    )


def test_chi2_survival_rejects_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="dof"):
        chi2_survival(1.0, 0)


def test_statistics_reject_mismatched_or_empty_counts() -> None:
    with pytest.raises(ValueError, match="bins"):
        psi([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least one value"):
        ks_distance([1, 2], [0, 0])


def test_identical_distributions_are_near_zero_and_shifted_ones_large() -> None:
    rng = np.random.default_rng(7)
    reference = numeric_reference(rng.normal(0, 1, 50_000))
    same = bin_counts(reference.bin_edges, rng.normal(0, 1, 5_000))
    shifted = bin_counts(reference.bin_edges, rng.normal(1, 1, 5_000))
    assert psi(reference, same) < 0.01
    assert ks_distance(reference, same) < 0.03
    assert chi2_pvalue(reference, same) > 0.01
    assert psi(reference, shifted) > 0.5
    assert ks_distance(reference, shifted) > 0.3
    assert chi2_pvalue(reference, shifted) < 1e-12


def test_a_one_hot_group_becomes_category_counts() -> None:
    rng = np.random.default_rng(3)
    categories = rng.choice(3, size=1_000, p=[0.6, 0.3, 0.1])
    block = np.eye(4)[categories]  # a fourth, never-seen __unknown__ column stays at 0
    columns = [numeric_reference(block[:, i]) for i in range(4)]
    reference = one_hot_reference_counts(columns)
    assert reference.tolist() == np.bincount(categories, minlength=4).tolist()
    assert one_hot_live_counts(block).tolist() == reference.tolist()
    live = one_hot_live_counts(np.eye(4)[rng.choice(3, size=1_000, p=[0.2, 0.3, 0.5])])
    assert psi(reference, live) > 0.5
    assert chi2_pvalue(reference, live) < 1e-12


def test_a_constant_one_column_counts_every_row_as_one() -> None:
    ones = numeric_reference(np.ones(10))
    zeros = numeric_reference(np.zeros(10))
    assert one_hot_reference_counts([ones, zeros]).tolist() == [10, 0]
