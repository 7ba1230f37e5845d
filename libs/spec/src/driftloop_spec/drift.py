"""The drift policy: which detectors watch which signals, and when an alarm may fire.

Data detectors compare the live distribution of features with the reference statistics of the
champion's training data; prediction detectors do the same for the model's scores; performance
detectors are river drift detectors fed with the per-prediction error once labels are joined:
for a classifier the probability it did not give the true class (0/1 misses for ``ddm``, which
models a Bernoulli rate), for regression the absolute error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, StrictInt, Tag, field_validator, model_validator

from driftloop_contracts.types import Name
from driftloop_spec._base import Number, Params, Problem, SpecModel, spec_problem, suggest
from driftloop_spec.durations import Duration, within

__all__ = [
    "RIVER_DETECTORS",
    "DataDriftDetector",
    "Detector",
    "DriftPolicy",
    "PerformanceDriftDetector",
    "PredictionDriftDetector",
]

RIVER_DETECTORS: dict[str, tuple[str, frozenset[str]]] = {
    "adwin": (
        "river.drift.ADWIN",
        frozenset({"delta", "clock", "max_buckets", "min_window_length", "grace_period"}),
    ),
    "ddm": (
        "river.drift.binary.DDM",
        frozenset({"warm_start", "warning_threshold", "drift_threshold"}),
    ),
    "kswin": ("river.drift.KSWIN", frozenset({"alpha", "window_size", "stat_size", "seed"})),
    "page_hinkley": (
        "river.drift.PageHinkley",
        frozenset({"min_instances", "delta", "threshold", "alpha", "mode"}),
    ),
}
"""Performance method to its river class and the parameters that class takes."""


def _all_or_list(value: Any) -> str:
    return "all" if value == "all" else "list"


FeatureSelection = Annotated[
    Annotated[Literal["all"], Tag("all")]
    | Annotated[tuple[Name, ...], Field(min_length=1, max_length=1024), Tag("list")],
    # A callable discriminator reports the errors of one branch, not of both.
    Discriminator(_all_or_list),
]
"""``"all"``, or a non-empty list of feature names."""


def _threshold_problems(method: str, threshold: float) -> list[Problem]:
    if method in ("ks", "chi2") and not threshold < 1:
        return [(("threshold",), f"a {method} threshold is below 1", threshold)]
    return []


class DataDriftDetector(SpecModel):
    """A two-sample test of live feature values against the training reference.

    ``psi`` fires when the population stability index reaches ``threshold`` (0.1 is moderate,
    0.2 large); ``ks`` when the Kolmogorov-Smirnov distance reaches it (0 to 1); ``chi2`` when
    the chi-squared test's p-value falls below it (e.g. 0.01).
    """

    signal: Literal["data"] = Field(description="Always 'data'.")
    method: Literal["psi", "ks", "chi2"] = Field(description="'psi', 'ks' or 'chi2'.")
    features: FeatureSelection = Field(
        default="all", description="Names of the features watched, or 'all'."
    )
    threshold: Annotated[Number, Field(gt=0)] = Field(description="When the detector fires.")

    @field_validator("features", mode="before")
    @classmethod
    def _all_or_list(cls, value: Any) -> Any:
        # One clear message instead of one per branch of the union.
        if isinstance(value, list | tuple) or value == "all":
            return value
        raise ValueError("features is 'all' or a list of feature names")

    @model_validator(mode="after")
    def _threshold_range(self) -> Self:
        problems = _threshold_problems(self.method, self.threshold)
        if problems:
            raise spec_problem(problems)
        return self


class PredictionDriftDetector(SpecModel):
    """A two-sample test of live model scores against the scores on the holdout.

    ``psi`` and ``ks`` fire as for data detectors.
    """

    signal: Literal["prediction"] = Field(description="Always 'prediction'.")
    method: Literal["psi", "ks"] = Field(description="'psi' or 'ks'.")
    threshold: Annotated[Number, Field(gt=0)] = Field(description="When the detector fires.")

    @model_validator(mode="after")
    def _threshold_range(self) -> Self:
        problems = _threshold_problems(self.method, self.threshold)
        if problems:
            raise spec_problem(problems)
        return self


class PerformanceDriftDetector(SpecModel):
    """A river drift detector on the stream of per-prediction errors.

    ``ddm`` watches a 0/1 error stream and so needs a classification task.
    """

    signal: Literal["performance"] = Field(description="Always 'performance'.")
    method: Literal["adwin", "ddm", "kswin", "page_hinkley"] = Field(
        description="'adwin', 'ddm', 'kswin' or 'page_hinkley' (river.drift detectors)."
    )
    params: Params = Field(
        default_factory=dict, description="Keyword arguments of the river detector, e.g. delta."
    )

    @model_validator(mode="after")
    def _known_params(self) -> Self:
        accepted = RIVER_DETECTORS[self.method][1]
        problems: list[Problem] = [
            (
                ("params", name),
                f"{self.method} takes no parameter {name!r}{suggest(name, sorted(accepted))}; "
                f"it takes {', '.join(sorted(accepted))}",
                value,
            )
            for name, value in self.params.items()
            if name not in accepted
        ]
        if problems:
            raise spec_problem(problems)
        return self

    @property
    def river_class(self) -> str:
        """Import path of the river detector class."""
        return RIVER_DETECTORS[self.method][0]


Detector = Annotated[
    DataDriftDetector | PredictionDriftDetector | PerformanceDriftDetector,
    Field(discriminator="signal"),
]
"""A drift detector, chosen by its ``signal``."""


class DriftPolicy(SpecModel):
    """The detectors, and the rules that keep them from firing too early or too often."""

    detectors: Annotated[tuple[Detector, ...], Field(min_length=1, max_length=64)] = Field(
        description="The detectors that watch the dataset's live traffic."
    )
    min_samples: Annotated[StrictInt, Field(ge=1)] = Field(
        default=500, description="Live events a data or prediction detector needs before it tests."
    )
    cooldown: Annotated[Duration, within("1s", "30d")] = Field(
        default=3600, description="After an alarm, how long the same detector stays quiet."
    )
    min_post_change_labels: Annotated[StrictInt, Field(ge=0)] = Field(
        default=100,
        description="Labelled events after the change point that retraining waits for, so the "
        "new model sees the changed world.",
    )
