"""Reference statistics: valid contract histograms that keep the shifts drift tests look for."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from driftloop_contracts import NumericReference
from driftloop_modeling.reference import (
    bin_counts,
    categorical_reference,
    feature_references,
    histogram_edges,
    numeric_reference,
)

pytestmark = pytest.mark.unit


def test_a_continuous_column_gets_quantile_bins_of_equal_mass() -> None:
    values = np.random.default_rng(0).normal(50, 10, 10_000)
    reference = numeric_reference(values, bins=10)
    assert len(reference.bin_edges) == 11
    assert reference.bin_edges[0] == values.min()
    assert reference.bin_edges[-1] == values.max()
    assert reference.count == 10_000
    assert all(990 <= c <= 1010 for c in reference.bin_counts)


def test_a_one_hot_column_keeps_zeros_and_ones_apart() -> None:
    column = np.array([0.0] * 90 + [1.0] * 10)
    reference = numeric_reference(column)
    assert reference.bin_edges == [0.0, 0.5, 1.0]
    assert reference.bin_counts == [90, 10]


def test_few_distinct_values_get_a_bin_each_with_strictly_increasing_edges() -> None:
    counts = np.array([1, 1, 2, 2, 2, 3, 7])
    assert histogram_edges(counts, bins=10) == [1.0, 1.5, 2.5, 5.0, 7.0]
    assert numeric_reference(counts, bins=10).bin_counts == [2, 3, 1, 1]


@pytest.mark.parametrize(
    ("values", "edges"),
    [([4.0, 4.0, 4.0], [4.0, 5.0]), ([], [0.0, 1.0]), ([-3e9], [-3e9, -3e9 + 3e3])],
)
def test_degenerate_columns_still_make_valid_histograms(
    values: list[float], edges: list[float]
) -> None:
    reference = numeric_reference(values)
    assert reference.bin_edges == edges
    assert reference.bin_counts == [len(values)]


def test_ties_at_a_quantile_merge_edges_instead_of_repeating_them() -> None:
    values = np.concatenate([np.zeros(700), np.arange(1, 301)])
    edges = histogram_edges(values, bins=10)
    assert edges[0] == 0.0
    assert all(a < b for a, b in pairwise(edges))
    assert len(edges) < 11


def test_missing_values_are_counted_apart() -> None:
    reference = numeric_reference([1.0, np.nan, 2.0, np.nan])
    assert (reference.count, reference.missing, sum(reference.bin_counts)) == (2, 2, 2)


def test_live_values_outside_the_reference_land_in_the_outer_bins() -> None:
    edges = [0.0, 1.0, 2.0, 3.0]
    live = [-5.0, 0.0, 0.99, 1.0, 2.5, 3.0, 9.0, np.nan]
    assert bin_counts(edges, live).tolist() == [3, 1, 3]


def test_the_reference_data_falls_in_its_own_bins_exactly_as_the_contract_says() -> None:
    values = np.random.default_rng(1).exponential(3, 1000)
    reference = numeric_reference(values, bins=7)
    *inner, last = list(pairwise(reference.bin_edges))
    inside = [((values >= lo) & (values < hi)).sum() for lo, hi in inner]
    inside.append(((values >= last[0]) & (values <= last[1])).sum())
    assert inside == reference.bin_counts


def test_categorical_counts_keep_the_most_frequent() -> None:
    values = ["DE"] * 5 + ["FR"] * 3 + ["IT"] * 3 + ["ES"] + [None] * 2 + ["x" * 300]
    reference = categorical_reference(values, max_categories=2)
    assert reference.category_counts == {"DE": 5, "FR": 3}
    assert (reference.count, reference.missing, reference.other_count) == (13, 2, 5)


def test_feature_references_name_every_column() -> None:
    matrix = np.column_stack([np.arange(20.0), np.tile([0.0, 1.0], 10)])
    references = feature_references(matrix, ["amount", "merchant:grocery"], bins=4)
    assert list(references) == ["amount", "merchant:grocery"]
    assert all(isinstance(r, NumericReference) for r in references.values())
    assert references["merchant:grocery"].bin_counts == [10, 10]
    with pytest.raises(ValueError, match=r"shape \(rows, 3\)"):
        feature_references(matrix, ["a", "b", "c"])
    with pytest.raises(ValueError, match="bins must be 1 to 256"):
        histogram_edges([1.0], bins=0)
