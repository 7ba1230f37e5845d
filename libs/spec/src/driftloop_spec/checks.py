"""Checks across the parts of a spec: features against fields, policies against the task.

Each check returns problems as ``(key path from the spec's root, message, value)``; the spec
raises them all at once, so a user sees every inconsistency in one go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from driftloop_contracts.features import MAX_FEATURES
from driftloop_contracts.types import NAME_PATTERN
from driftloop_spec._base import Problem, suggest
from driftloop_spec.drift import DataDriftDetector, DriftPolicy, PerformanceDriftDetector
from driftloop_spec.estimator import ModelSpec
from driftloop_spec.feature_base import BaseFeature
from driftloop_spec.fields import FieldSpec
from driftloop_spec.label import LabelSpec
from driftloop_spec.metrics import METRICS, metrics_for
from driftloop_spec.promotion import PromotionPolicy

__all__ = ["check_drift", "check_features", "check_label", "check_model", "check_promotion"]


def check_label(label: LabelSpec, fields: Mapping[str, FieldSpec]) -> list[Problem]:
    """The label must not also be a field (a feature could then read it)."""
    if label.name in fields:
        return [(("label", "name"), "the label must not also be declared in fields", label.name)]
    return []


def check_features(
    features: Sequence[BaseFeature], fields: Mapping[str, FieldSpec], label: LabelSpec
) -> list[Problem]:
    """Every feature's name is unique, its inputs declared and typed right, its columns valid."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        if feature.name in seen:
            problems.append((("features", index, "name"), "duplicate feature name", feature.name))
        seen.add(feature.name)
        inputs = _input_problems(feature, fields, label)
        if not inputs:
            inputs = feature.check(fields)
        problems += [(("features", index, *loc), text, value) for loc, text, value in inputs]
    return problems + _column_problems(features)


def _input_problems(
    feature: BaseFeature, fields: Mapping[str, FieldSpec], label: LabelSpec
) -> list[Problem]:
    problems: list[Problem] = []
    for key, name in feature.input_refs():
        if name == label.name:
            message = f"{name!r} is the label: a feature must not use it (target leakage)"
        elif name not in fields:
            message = f"no field named {name!r} is declared{suggest(name, list(fields))}"
        elif fields[name].type not in feature.accepts():
            accepted = ", ".join(sorted(feature.accepts()))
            kind = fields[name].type
            message = f"{feature.transform} needs a field of type {accepted}; {name!r} is {kind}"
        else:
            continue
        problems.append(((key,), message, name))
    return problems


def _column_problems(features: Sequence[BaseFeature]) -> list[Problem]:
    problems: list[Problem] = []
    owner: dict[str, int] = {}
    for index, feature in enumerate(features):
        for column in feature.columns():
            if re.fullmatch(NAME_PATTERN, column) is None:
                message = (
                    f"makes column {column!r}, which is not a valid name (letters, digits, _ . : -)"
                )
                problems.append((("features", index), message, column))
            elif column in owner and features[owner[column]].name != feature.name:
                message = f"makes column {column!r}, also made by features[{owner[column]}]"
                problems.append((("features", index), message, column))
            owner.setdefault(column, index)
    total = sum(len(feature.columns()) for feature in features)
    if total > MAX_FEATURES:
        problems.append((("features",), f"{total} columns; at most {MAX_FEATURES}", total))
    return problems


def check_model(model: ModelSpec, label: LabelSpec) -> list[Problem]:
    """A classifier class for a classification task, a regressor class for regression."""
    name = model.final.class_name
    loc: tuple[str | int, ...] = (
        ("model", "estimator")
        if model.pipeline is None
        else ("model", "pipeline", len(model.pipeline) - 1, "estimator")
    )
    if label.is_classifier and name.endswith("Regressor"):
        return [(loc, f"a regressor cannot learn the {label.task} task", model.final.estimator)]
    if not label.is_classifier and name.endswith("Classifier"):
        return [(loc, "a classifier cannot learn a regression task", model.final.estimator)]
    return []


def check_drift(
    drift: DriftPolicy, features: Sequence[BaseFeature], label: LabelSpec
) -> list[Problem]:
    """Data detectors name declared features; ``ddm`` needs a classification task."""
    names = [feature.name for feature in features]
    problems: list[Problem] = []
    for index, detector in enumerate(drift.detectors):
        loc = ("drift", "detectors", index)
        if isinstance(detector, DataDriftDetector) and detector.features != "all":
            for position, name in enumerate(detector.features):
                if name not in names:
                    message = f"no feature named {name!r}{suggest(name, names)}"
                    problems.append(((*loc, "features", position), message, name))
        ddm = isinstance(detector, PerformanceDriftDetector) and detector.method == "ddm"
        if ddm and not label.is_classifier:
            message = "ddm watches a 0/1 error stream: use adwin, kswin or page_hinkley"
            problems.append(((*loc, "method"), message, detector.method))
    return problems


def check_promotion(promotion: PromotionPolicy, label: LabelSpec) -> list[Problem]:
    """The metric must be defined for the label's task."""
    if label.task in METRICS[promotion.metric].tasks:
        return []
    allowed = ", ".join(metrics_for(label.task))
    message = f"{promotion.metric} does not apply to a {label.task} task; use one of {allowed}"
    return [(("promotion", "metric"), message, promotion.metric)]
