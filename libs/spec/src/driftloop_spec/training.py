"""The training policy: which data a model learns from and how much is held out."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from driftloop_spec._base import Number, SpecModel
from driftloop_spec.durations import Duration, within

__all__ = ["TrainingSpec"]


class TrainingSpec(SpecModel):
    """How the trainer builds a training set and when it retrains without being asked.

    The trainer reads the labelled rows of the offline store (features as served, joined with
    their labels) whose event time falls in the last ``window``, holds out the latest
    ``holdout`` fraction by event time, and evaluates candidate and champion on it. After each
    run, automatic triggers (drift, schedule, bootstrap) wait out ``cooldown``; a manual
    request does not.
    """

    window: Annotated[Duration, within("1m", "365d")] = Field(
        description="How far back training data reaches, by event time, e.g. '7d'."
    )
    holdout: Annotated[Number, Field(gt=0, lt=0.5)] = Field(
        description="Fraction of rows held out for evaluation (the latest ones): 0 < h < 0.5."
    )
    min_labelled_rows: Annotated[StrictInt, Field(ge=10)] = Field(
        description="Fewest labelled rows a training run needs; with fewer it fails (>= 10)."
    )
    schedule: Annotated[Duration, within("1m", "365d")] | None = Field(
        default=None, description="Retrain this often even without drift, e.g. '1d'; optional."
    )
    cooldown: Annotated[Duration, within("1s", "365d")] | None = Field(
        default=None,
        description="After a run ends, automatic triggers (drift, schedule, bootstrap) wait this "
        "long before the next run, which then serves all of them; manual requests do not wait. "
        "Optional, e.g. '30m'.",
    )
