"""The model: a scikit-learn estimator or pipeline, or a river online model, with parameters.

The spec names the estimator by its import path; nothing is imported here (see
``driftloop_spec.resolve`` for that). Only paths under an allow-list of packages are accepted.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, Strict, StringConstraints, field_validator, model_validator

from driftloop_spec._base import NO_VALUE, Params, Problem, SpecModel, spec_problem

__all__ = [
    "ALLOWED_PACKAGES",
    "ImportPath",
    "ModelKind",
    "ModelSpec",
    "PipelineStep",
    "check_import_path",
]

ModelKind = Literal["sklearn", "river"]
"""The library the model comes from: scikit-learn (batch) or river (online)."""

ALLOWED_PACKAGES: dict[str, str] = {"sklearn": "sklearn", "river": "river"}
"""Model kind to the one top-level package its estimators may be imported from."""

ImportPath = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)]
"""A dotted import path of a class, e.g. ``sklearn.linear_model.Ridge``."""


def check_import_path(path: str) -> str:
    """Check that an import path is allow-listed: under an allowed package, public segments only.

    Args:
        path: A dotted path such as ``sklearn.ensemble.HistGradientBoostingClassifier``.

    Returns:
        ``path`` unchanged.

    Raises:
        ValueError: If the path is outside the allowed packages, has fewer than three segments
            (package, module, class) or a segment that is not a public identifier.
    """
    segments = path.split(".")
    if segments[0] not in ALLOWED_PACKAGES.values():
        allowed = " or ".join(f"'{p}.'" for p in ALLOWED_PACKAGES.values())
        raise ValueError(f"estimator {path!r} is not allowed: it must start with {allowed}")
    if len(segments) < 3:
        raise ValueError(
            f"estimator {path!r} must name a module and a class, e.g. 'sklearn.svm.SVC'"
        )
    for segment in segments:
        if not segment.isidentifier() or not segment.isascii() or segment.startswith("_"):
            raise ValueError(f"estimator {path!r}: {segment!r} is not a public identifier")
    return path


class PipelineStep(SpecModel):
    """One step of a pipeline: a transformer, or the final estimator."""

    estimator: ImportPath = Field(description="Import path of the step's class.")
    params: Params = Field(default_factory=dict, description="Keyword arguments of the class.")

    @field_validator("estimator")
    @classmethod
    def _allowed(cls, path: str) -> str:
        return check_import_path(path)

    @property
    def class_name(self) -> str:
        """The class name, the path's last segment."""
        return self.estimator.rsplit(".", 1)[1]


class ModelSpec(SpecModel):
    """The model to train: one estimator with its parameters, or a pipeline of steps.

    A scikit-learn pipeline is built with ``sklearn.pipeline.make_pipeline``, a river one with
    ``river.compose.Pipeline``; every step but the last transforms, the last one predicts.
    """

    kind: ModelKind = Field(description="'sklearn' or 'river'.")
    estimator: ImportPath | None = Field(
        default=None, description="Import path of the estimator class (or give 'pipeline')."
    )
    params: Params = Field(
        default_factory=dict, description="Keyword arguments of the estimator (not of a pipeline)."
    )
    pipeline: Annotated[tuple[PipelineStep, ...], Field(min_length=2, max_length=32)] | None = (
        Field(default=None, description="Steps of a pipeline (or give 'estimator').")
    )

    @field_validator("estimator")
    @classmethod
    def _allowed(cls, path: str | None) -> str | None:
        return None if path is None else check_import_path(path)

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        problems = self._form_problems() or self._kind_problems()
        if problems:
            raise spec_problem(problems)
        return self

    def steps(self) -> tuple[PipelineStep, ...]:
        """Return the steps: the pipeline's, or the one estimator with its parameters."""
        if self.pipeline is not None:
            return self.pipeline
        assert self.estimator is not None  # guaranteed by validation
        # Already validated as part of this model; resolve_estimator checks the path again.
        return (PipelineStep.model_construct(estimator=self.estimator, params=self.params),)

    @property
    def final(self) -> PipelineStep:
        """The step that predicts: the estimator, or the pipeline's last step."""
        return self.steps()[-1]

    def _form_problems(self) -> list[Problem]:
        if self.estimator is None and self.pipeline is None:
            return [(("estimator",), "give estimator (one class) or pipeline (steps)", NO_VALUE)]
        if self.estimator is not None and self.pipeline is not None:
            return [(("pipeline",), "give estimator or pipeline, not both", NO_VALUE)]
        if self.pipeline is not None and self.params:
            return [(("params",), "a pipeline's parameters go on its steps", self.params)]
        return []

    def _kind_problems(self) -> list[Problem]:
        package = ALLOWED_PACKAGES[self.kind]
        problems: list[Problem] = []
        for index, step in enumerate(self.steps()):
            if step.estimator.split(".")[0] != package:
                loc: tuple[str | int, ...] = (
                    ("estimator",) if self.pipeline is None else ("pipeline", index, "estimator")
                )
                problems.append(
                    (loc, f"a {self.kind} model uses {package}.* classes", step.estimator)
                )
        return problems
