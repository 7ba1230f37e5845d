"""Two-sample drift statistics of live values against a reference histogram.

Live values are binned with ``bin_counts`` over the reference's own edges, so every statistic
here compares two count vectors bin for bin (or category for category):

- ``psi``: the population stability index, ``sum((a - e) * ln(a / e))`` over the bins' shares
  (``e`` reference, ``a`` live). A bin empty on one side would make it infinite, so shares are
  floored at ``PSI_EPSILON`` (1e-4, the usual choice; an empty bin facing a 10% bin then adds
  about 0.8, a clear alarm rather than infinity). 0 for identical shares; 0.1 is a moderate
  shift, 0.2 a large one.
- ``ks_distance``: the Kolmogorov-Smirnov distance, the largest gap between the two cumulative
  distributions. Binned, it is read at the bin edges only, so it never exceeds the exact
  distance of the raw values (a lower bound, exact when no bin holds values of both sides).
- ``chi2_pvalue``: the chi-squared test of homogeneity of the two count vectors (a 2 x k
  contingency table; categories empty on both sides are left out). A small p-value says the
  two samples do not come from one distribution.

A one-hot group of columns (``merchant:grocery``, ..., ``merchant:__unknown__``) is one
categorical variable: ``one_hot_reference_counts`` reads its reference category counts (the
rows where each column is 1) from the columns' histograms, and ``one_hot_live_counts`` counts
the 1s per column of a live block, so PSI and chi2 compare categories, not 0/1 columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftloop_contracts import NumericReference

__all__ = [
    "PSI_EPSILON",
    "chi2_pvalue",
    "chi2_statistic",
    "chi2_survival",
    "ks_distance",
    "one_hot_live_counts",
    "one_hot_reference_counts",
    "psi",
]

PSI_EPSILON = 1e-4
"""Floor of a bin's share in ``psi``: an empty bin counts as holding this share."""

_GAMMA_ITERATIONS = 500
_GAMMA_TOLERANCE = 1e-14


def psi(expected: NumericReference | ArrayLike, live_counts: ArrayLike) -> float:
    """Return the population stability index of live counts against the reference's.

    Args:
        expected: The reference histogram, or its counts per bin.
        live_counts: Live values per bin (``bin_counts`` over the reference's edges).

    Raises:
        ValueError: The two have a different number of bins, or one side has no values.
    """
    e, a = _shares(expected, live_counts)
    e = np.maximum(e, PSI_EPSILON)
    a = np.maximum(a, PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def ks_distance(expected: NumericReference | ArrayLike, live_counts: ArrayLike) -> float:
    """Return the Kolmogorov-Smirnov distance between the two binned distributions (0 to 1).

    Args:
        expected: The reference histogram, or its counts per bin, in the order of the bins.
        live_counts: Live values per bin, in the same order.

    Raises:
        ValueError: The two have a different number of bins, or one side has no values.
    """
    e, a = _shares(expected, live_counts)
    return float(np.max(np.abs(np.cumsum(e) - np.cumsum(a))))


def chi2_statistic(
    expected: NumericReference | ArrayLike, live_counts: ArrayLike
) -> tuple[float, int]:
    """Return the chi-squared statistic of homogeneity of two count vectors and its degrees
    of freedom (non-empty categories minus one).

    Args:
        expected: The reference histogram, or its counts per category.
        live_counts: Live counts per category, in the same order.

    Raises:
        ValueError: The two have a different length, or one side has no values.
    """
    reference, live = _counts(expected, live_counts)
    table = np.vstack((reference, live))[:, (reference + live) > 0]
    totals = table.sum(axis=1, keepdims=True)
    expected_cells = totals * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected_cells) ** 2 / expected_cells))
    return statistic, table.shape[1] - 1


def chi2_pvalue(expected: NumericReference | ArrayLike, live_counts: ArrayLike) -> float:
    """Return the p-value of the chi-squared test of homogeneity of the two count vectors
    (1.0 when fewer than two categories hold values: nothing to tell apart).

    Args:
        expected: The reference histogram, or its counts per category.
        live_counts: Live counts per category, in the same order.

    Raises:
        ValueError: The two have a different length, or one side has no values.
    """
    statistic, dof = chi2_statistic(expected, live_counts)
    return chi2_survival(statistic, dof) if dof > 0 else 1.0


def chi2_survival(statistic: float, dof: int) -> float:
    """Return ``P(X >= statistic)`` for ``X`` chi-squared with ``dof`` degrees of freedom.

    The regularised upper incomplete gamma function ``Q(dof / 2, statistic / 2)``, by its
    series below ``a + 1`` and its continued fraction above (as in Numerical Recipes), so the
    library needs no scipy import of its own.

    Args:
        statistic: The statistic, at least 0.
        dof: Degrees of freedom, at least 1.

    Raises:
        ValueError: ``dof`` is below 1 or ``statistic`` is negative.
    """
    if dof < 1 or statistic < 0:
        raise ValueError(f"need dof >= 1 and statistic >= 0, not {dof} and {statistic}")
    a, x = dof / 2, statistic / 2
    if x == 0:
        return 1.0
    if x < a + 1:
        return max(0.0, 1.0 - _gamma_series(a, x))
    return _gamma_fraction(a, x)


def one_hot_reference_counts(columns: Sequence[NumericReference]) -> NDArray[np.int64]:
    """Return a one-hot group's reference count per category: the rows where its column is 1.

    A 0/1 column's histogram has a bin per value (edges ``[0, 0.5, 1]``), or a single bin when
    the column was constant; the rows at 1 are those of the bin holding 1.

    Args:
        columns: The histograms of the group's columns, in category order.
    """
    return np.array([_ones(reference) for reference in columns], dtype=np.int64)


def one_hot_live_counts(block: ArrayLike) -> NDArray[np.int64]:
    """Return a live one-hot block's count per category (the 1s per column).

    Args:
        block: Rows of the group's 0/1 columns, shape ``(rows, categories)``.
    """
    matrix = np.asarray(block, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"a one-hot block has two dimensions, not shape {matrix.shape}")
    ones: NDArray[np.int64] = np.count_nonzero(matrix >= 0.5, axis=0).astype(np.int64)
    return ones


def _ones(reference: NumericReference) -> int:
    edges = reference.bin_edges
    if len(reference.bin_counts) == 1:
        return reference.count if edges[0] >= 0.5 else 0
    index = int(np.searchsorted(np.asarray(edges[1:-1]), 1.0, side="right"))
    return reference.bin_counts[index]


def _counts(
    expected: NumericReference | ArrayLike, live_counts: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    raw = expected.bin_counts if isinstance(expected, NumericReference) else expected
    reference = np.asarray(raw, dtype=np.float64).reshape(-1)
    live = np.asarray(live_counts, dtype=np.float64).reshape(-1)
    if reference.shape != live.shape:
        raise ValueError(f"{len(reference)} reference bins but {len(live)} live bins")
    if reference.sum() <= 0 or live.sum() <= 0:
        raise ValueError("both the reference and the live counts need at least one value")
    return reference, live


def _shares(
    expected: NumericReference | ArrayLike, live_counts: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    reference, live = _counts(expected, live_counts)
    return reference / reference.sum(), live / live.sum()


def _gamma_series(a: float, x: float) -> float:
    """Regularised lower incomplete gamma ``P(a, x)`` by its series (``x < a + 1``)."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(_GAMMA_ITERATIONS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _GAMMA_TOLERANCE:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_fraction(a: float, x: float) -> float:
    """Regularised upper incomplete gamma ``Q(a, x)`` by Lentz's continued fraction."""
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, _GAMMA_ITERATIONS + 1):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < _GAMMA_TOLERANCE:
            break
    return h * math.exp(-x + a * math.log(x) - math.lgamma(a))
