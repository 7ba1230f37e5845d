"""The promotion policy: when a candidate model replaces the champion, and how."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StrictInt, model_validator

from driftloop_spec._base import NO_VALUE, Number, Problem, SpecModel, spec_problem
from driftloop_spec.metrics import MetricName

__all__ = ["PromotionMode", "PromotionPolicy"]

PromotionMode = Literal["automatic", "shadow", "manual"]
"""How a candidate that beats the champion is promoted."""


class PromotionPolicy(SpecModel):
    """How the registry decides on a candidate that a training run produced.

    A candidate qualifies when its holdout ``metric`` beats the champion's by at least
    ``min_improvement`` (in the metric's units and direction: a drop for losses and errors).
    ``automatic`` promotes a qualifying candidate to champion at once; ``shadow`` serves it as
    a shadow for ``shadow_events`` live events and promotes it if it still qualifies on them;
    ``manual`` leaves it a candidate for an operator to promote.
    """

    metric: MetricName = Field(description="Holdout metric compared, e.g. 'roc_auc' or 'mae'.")
    min_improvement: Annotated[Number, Field(ge=0)] = Field(
        default=0.0, description="Smallest improvement over the champion that qualifies (>= 0)."
    )
    mode: PromotionMode = Field(description="'automatic', 'shadow' or 'manual'.")
    shadow_events: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None, description="Live labelled events a shadow is judged on (shadow mode only)."
    )
    max_fpr: Annotated[Number, Field(gt=0, lt=1)] | None = Field(
        default=None, description="False-positive rate recall is read at (recall_at_fpr only)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[Problem] = []
        if self.mode == "shadow" and self.shadow_events is None:
            problems.append((("shadow_events",), "shadow mode needs shadow_events", NO_VALUE))
        if self.mode != "shadow" and self.shadow_events is not None:
            message = f"shadow_events applies to shadow mode only, not {self.mode}"
            problems.append((("shadow_events",), message, self.shadow_events))
        if self.metric == "recall_at_fpr" and self.max_fpr is None:
            problems.append((("max_fpr",), "recall_at_fpr needs max_fpr", NO_VALUE))
        if self.metric != "recall_at_fpr" and self.max_fpr is not None:
            problems.append((("max_fpr",), "max_fpr applies to recall_at_fpr only", self.max_fpr))
        if problems:
            raise spec_problem(problems)
        return self
