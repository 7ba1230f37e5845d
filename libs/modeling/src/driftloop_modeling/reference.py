"""Reference statistics: what a model's training data and scores looked like, for drift tests.

The trainer summarises every feature column of a training set as a ``NumericReference`` (a
histogram over quantile bin edges) and the candidate's scores on the holdout under the reserved
name ``SCORE_REFERENCE``; the monitor bins live values with ``bin_counts`` over the same edges,
so reference and live counts are comparable bin for bin (PSI, KS).

A column with few distinct values (one-hot 0/1 columns, counts) gets one bin per value, with
edges halfway between neighbouring values: quantile edges would fold 0 and 1 into one bin, and
the histogram would hide the very shift it is kept for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftloop_contracts import CategoricalReference, NumericReference
from driftloop_contracts.reference import MAX_BINS, MAX_CATEGORIES

__all__ = [
    "DEFAULT_BINS",
    "SCORE_REFERENCE",
    "bin_counts",
    "categorical_reference",
    "feature_references",
    "histogram_edges",
    "numeric_reference",
]

DEFAULT_BINS = 10
"""Bins of a numeric reference unless told otherwise: the usual choice for PSI."""

SCORE_REFERENCE = "__score__"
"""Name of the model's score distribution among the references (no feature column may take it):
the positive class's probability (binary), the highest class probability (multiclass), or the
estimate (regression), on the holdout."""

_MAX_CATEGORY_CHARS = 256


def histogram_edges(values: ArrayLike, bins: int = DEFAULT_BINS) -> list[float]:
    """Return strictly increasing bin edges for ``values``' finite entries.

    Up to ``bins`` distinct values: one bin per value, edges halfway between neighbours (and
    at the smallest and largest value). More: the ``bins + 1`` quantiles, repeated ones merged.
    One distinct value gets a single bin starting at it; no values, the bin ``[0, 1]``.

    Args:
        values: The values; NaN and infinities are ignored.
        bins: The most bins wanted, 1 to ``MAX_BINS``.

    Raises:
        ValueError: ``bins`` is out of range.
    """
    if not 1 <= bins <= MAX_BINS:
        raise ValueError(f"bins must be 1 to {MAX_BINS}, not {bins}")
    finite = _finite(values)
    distinct = np.unique(finite)
    if len(distinct) == 0:
        return [0.0, 1.0]
    if len(distinct) == 1:
        only = float(distinct[0])
        return [only, only + max(1.0, abs(only) * 1e-6)]
    if len(distinct) <= bins:
        middles = (distinct[:-1] + distinct[1:]) / 2
        edges = np.concatenate(([distinct[0]], middles, [distinct[-1]]))
    else:
        edges = np.quantile(finite, np.linspace(0.0, 1.0, bins + 1))
    return [float(e) for e in np.unique(edges)]


def bin_counts(edges: Sequence[float], values: ArrayLike) -> NDArray[np.int64]:
    """Return how many of ``values``' finite entries fall in each bin of ``edges``.

    Bin ``i`` is ``[edges[i], edges[i + 1])`` and the last bin includes its upper edge, as in
    ``NumericReference``; values below the first edge count in the first bin and values above
    the last in the last, so live data outside the reference's range still counts (as the
    extreme bins, where PSI sees it).

    Args:
        edges: Strictly increasing edges, at least two.
        values: The values; NaN and infinities are ignored.
    """
    bounds = np.asarray(edges, dtype=np.float64)
    if bounds.ndim != 1 or len(bounds) < 2:
        raise ValueError("edges must be a list of at least two numbers")
    inner = bounds[1:-1]  # the bin is the number of inner edges at or below the value
    positions = np.searchsorted(inner, _finite(values), side="right")
    return np.bincount(positions, minlength=len(bounds) - 1).astype(np.int64)


def numeric_reference(values: ArrayLike, bins: int = DEFAULT_BINS) -> NumericReference:
    """Return the reference histogram of one numeric column (NaN counts as missing).

    Args:
        values: The column.
        bins: The most bins wanted (see ``histogram_edges``).
    """
    column = np.asarray(values, dtype=np.float64).reshape(-1)
    edges = histogram_edges(column, bins)
    counts = bin_counts(edges, column)
    return NumericReference(
        count=int(counts.sum()),
        missing=int(np.isnan(column).sum()),
        bin_edges=edges,
        bin_counts=[int(c) for c in counts],
    )


def categorical_reference(
    values: Iterable[str | None], max_categories: int = MAX_CATEGORIES
) -> CategoricalReference:
    """Return the reference counts of one categorical column (``None`` counts as missing).

    The ``max_categories`` most frequent categories are listed (ties by name); the rest, and
    categories longer than the contract allows, are counted in ``other_count``.

    Args:
        values: The column.
        max_categories: The most categories listed, 0 to ``MAX_CATEGORIES``.
    """
    if not 0 <= max_categories <= MAX_CATEGORIES:
        raise ValueError(f"max_categories must be 0 to {MAX_CATEGORIES}, not {max_categories}")
    given = list(values)
    seen = Counter(value for value in given if value is not None)
    ranked = sorted(
        ((name, n) for name, n in seen.items() if len(name) <= _MAX_CATEGORY_CHARS),
        key=lambda item: (-item[1], item[0]),
    )
    kept = dict(ranked[:max_categories])
    count = sum(seen.values())
    return CategoricalReference(
        count=count,
        missing=len(given) - count,
        category_counts=kept,
        other_count=count - sum(kept.values()),
    )


def feature_references(
    matrix: ArrayLike, columns: Sequence[str], bins: int = DEFAULT_BINS
) -> dict[str, NumericReference]:
    """Return the reference histogram of every column of a feature matrix, by column name.

    Args:
        matrix: The rows, shape ``(rows, len(columns))``.
        columns: The column names, in order.
        bins: The most bins per column (see ``histogram_edges``).

    Raises:
        ValueError: The matrix does not have one column per name.
    """
    table = np.asarray(matrix, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != len(columns):
        raise ValueError(f"matrix must have shape (rows, {len(columns)}), not {table.shape}")
    return {name: numeric_reference(table[:, i], bins) for i, name in enumerate(columns)}


def _finite(values: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    return array[np.isfinite(array)]
