"""Reference statistics: per-feature summaries of the training data the monitor compares against."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from driftloop_contracts.envelope import ContractModel
from driftloop_contracts.types import Category, Count, FiniteFloat

__all__ = [
    "MAX_BINS",
    "MAX_CATEGORIES",
    "CategoricalReference",
    "FeatureReference",
    "NumericReference",
]

MAX_BINS = 256
"""Most histogram bins a numeric reference holds."""

MAX_CATEGORIES = 1024
"""Most categories a categorical reference lists; the rest are folded into ``other_count``."""


class NumericReference(ContractModel):
    """A numeric feature's reference distribution, as a histogram over quantile bin edges.

    Bin ``i`` covers ``[bin_edges[i], bin_edges[i + 1])`` (the last bin includes its upper edge),
    so the counts sum to ``count``.
    """

    kind: Literal["numeric"] = Field(default="numeric", description="Statistic kind.")
    count: Count = Field(description="Number of non-missing values summarised.")
    missing: Count = Field(default=0, description="Number of missing (null) values.")
    bin_edges: Annotated[list[FiniteFloat], Field(min_length=2, max_length=MAX_BINS + 1)] = Field(
        description="Strictly increasing bin edges (quantiles of the reference data)."
    )
    bin_counts: Annotated[list[Count], Field(min_length=1, max_length=MAX_BINS)] = Field(
        description="Values per bin; one fewer entry than bin_edges."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if any(a >= b for a, b in zip(self.bin_edges, self.bin_edges[1:], strict=False)):
            raise ValueError("bin_edges must be strictly increasing")
        if len(self.bin_counts) != len(self.bin_edges) - 1:
            raise ValueError("bin_counts must have exactly one entry fewer than bin_edges")
        if sum(self.bin_counts) != self.count:
            raise ValueError(f"bin_counts sum to {sum(self.bin_counts)}, not count={self.count}")
        return self

    @classmethod
    def example(cls) -> Self:
        """Return a four-bin histogram of payment amounts."""
        return cls(count=1000, bin_edges=[0.0, 12.5, 31.0, 64.0, 950.0], bin_counts=[250] * 4)


class CategoricalReference(ContractModel):
    """A categorical feature's reference distribution, as counts per category."""

    kind: Literal["categorical"] = Field(default="categorical", description="Statistic kind.")
    count: Count = Field(description="Number of non-missing values summarised.")
    missing: Count = Field(default=0, description="Number of missing (null) values.")
    category_counts: Annotated[dict[Category, Count], Field(max_length=MAX_CATEGORIES)] = Field(
        description="Values per category, for the most frequent categories."
    )
    other_count: Count = Field(
        default=0, description="Values in categories left out of category_counts."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        total = sum(self.category_counts.values()) + self.other_count
        if total != self.count:
            raise ValueError(f"category_counts plus other_count sum to {total}, not {self.count}")
        return self

    @classmethod
    def example(cls) -> Self:
        """Return country frequencies."""
        return cls(count=1000, missing=4, category_counts={"DE": 610, "FR": 250}, other_count=140)


FeatureReference = Annotated[NumericReference | CategoricalReference, Field(discriminator="kind")]
"""One feature's reference statistics, numeric or categorical (told apart by ``kind``)."""
