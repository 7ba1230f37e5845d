"""Build the estimator a spec's ``model`` names: import its classes lazily and instantiate them.

This is the only module of the spec library that imports scikit-learn or river, and only when
called. It re-checks the allow-list before importing anything, and checks that each class is
what its place needs: the last step predicts (``fit``/``predict``, or river's
``learn_one``/``predict_one``), earlier steps transform (``fit``/``transform``, or
``learn_one``/``transform_one``).
"""

from __future__ import annotations

import importlib
from typing import Any

from driftloop_spec.estimator import ALLOWED_PACKAGES, ModelSpec, PipelineStep, check_import_path

__all__ = ["EstimatorError", "resolve_estimator"]

_METHODS: dict[tuple[str, bool], tuple[str, str]] = {
    ("sklearn", True): ("fit", "predict"),
    ("sklearn", False): ("fit", "transform"),
    ("river", True): ("learn_one", "predict_one"),
    ("river", False): ("learn_one", "transform_one"),
}


class EstimatorError(ValueError):
    """The model a spec names cannot be built: not allowed, not found, not an estimator, or
    given parameters its class does not take."""


def resolve_estimator(model: ModelSpec) -> Any:
    """Return a new, unfitted instance of the model a spec names.

    Args:
        model: The spec's ``model``.

    Returns:
        The estimator; for a pipeline, ``sklearn.pipeline.make_pipeline(*steps)`` or
        ``river.compose.Pipeline(*steps)``.

    Raises:
        EstimatorError: If a class is outside the allow-list, cannot be imported, is not an
            estimator (or transformer) of the model's kind, or rejects its parameters.
    """
    steps = model.steps()
    built = [
        _build(step, model.kind, final=index == len(steps) - 1) for index, step in enumerate(steps)
    ]
    if len(built) == 1:
        return built[0]
    if model.kind == "sklearn":
        return _load("sklearn.pipeline.make_pipeline")(*built)
    return _load("river.compose.Pipeline")(*built)


def _build(step: PipelineStep, kind: str, final: bool) -> Any:
    path = step.estimator
    try:
        check_import_path(path)
    except ValueError as error:
        raise EstimatorError(str(error)) from None
    if path.split(".")[0] != ALLOWED_PACKAGES[kind]:
        raise EstimatorError(f"{path!r} is not a {kind} class")
    cls = _load(path)
    if not isinstance(cls, type):
        raise EstimatorError(f"{path!r} is not a class")
    role = "estimator" if final else "transformer"
    missing = [name for name in _METHODS[kind, final] if not callable(getattr(cls, name, None))]
    if missing:
        raise EstimatorError(f"{path!r} is not a {kind} {role}: it has no {', '.join(missing)}")
    try:
        return cls(**step.params)
    except (TypeError, ValueError) as error:
        raise EstimatorError(f"{path!r} rejects its params {step.params}: {error}") from None


def _load(path: str) -> Any:
    module_name, name = path.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise EstimatorError(f"cannot import {module_name!r} for {path!r}: {error}") from None
    try:
        return getattr(module, name)
    except AttributeError:
        raise EstimatorError(f"module {module_name!r} has no {name!r}") from None
