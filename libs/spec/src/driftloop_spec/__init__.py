"""driftloop's dataset spec: the model of the document, its YAML loader and estimator resolver.

A dataset spec declares a dataset end to end: its fields, label, features, model, training
window, drift policy and promotion policy. ``load_spec`` reads one from YAML with errors that
point at the line to fix; ``DatasetSpec.to_document`` and ``digest`` give the canonical form the
registry stores and broadcasts; ``resolve_estimator`` builds the model a spec names (it imports
scikit-learn or river only when called, so importing this package stays light).
"""

from __future__ import annotations

from driftloop_spec.dataset import DatasetSpec
from driftloop_spec.drift import (
    DataDriftDetector,
    Detector,
    DriftPolicy,
    PerformanceDriftDetector,
    PredictionDriftDetector,
)
from driftloop_spec.durations import format_duration, parse_duration
from driftloop_spec.errors import SpecError, SpecIssue
from driftloop_spec.estimator import ModelSpec, PipelineStep
from driftloop_spec.features import (
    AggregateFeature,
    ClipFeature,
    CompareFeature,
    DayOfWeekFeature,
    Feature,
    HourOfDayFeature,
    Log1pFeature,
    OneHotFeature,
    OrdinalFeature,
    PassthroughFeature,
    StandardScaleFeature,
)
from driftloop_spec.fields import (
    BoolField,
    CategoryField,
    FieldSpec,
    FloatField,
    IntField,
    StringField,
)
from driftloop_spec.label import LabelSpec
from driftloop_spec.lateness import LatenessSpec
from driftloop_spec.loader import load_spec, parse_spec
from driftloop_spec.metrics import METRICS, higher_is_better, metrics_for
from driftloop_spec.promotion import PromotionPolicy
from driftloop_spec.resolve import EstimatorError, resolve_estimator
from driftloop_spec.training import TrainingSpec

__all__ = [
    "METRICS",
    "AggregateFeature",
    "BoolField",
    "CategoryField",
    "ClipFeature",
    "CompareFeature",
    "DataDriftDetector",
    "DatasetSpec",
    "DayOfWeekFeature",
    "Detector",
    "DriftPolicy",
    "EstimatorError",
    "Feature",
    "FieldSpec",
    "FloatField",
    "HourOfDayFeature",
    "IntField",
    "LabelSpec",
    "LatenessSpec",
    "Log1pFeature",
    "ModelSpec",
    "OneHotFeature",
    "OrdinalFeature",
    "PassthroughFeature",
    "PerformanceDriftDetector",
    "PipelineStep",
    "PredictionDriftDetector",
    "PromotionPolicy",
    "SpecError",
    "SpecIssue",
    "StandardScaleFeature",
    "StringField",
    "TrainingSpec",
    "format_duration",
    "higher_is_better",
    "load_spec",
    "metrics_for",
    "parse_duration",
    "parse_spec",
    "resolve_estimator",
]
