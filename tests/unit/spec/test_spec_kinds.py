"""Every field type, feature transform, label task, model form and detector parses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from driftloop_spec import (
    METRICS,
    AggregateFeature,
    BoolField,
    CategoryField,
    ClipFeature,
    CompareFeature,
    DataDriftDetector,
    DatasetSpec,
    DayOfWeekFeature,
    FloatField,
    HourOfDayFeature,
    IntField,
    Log1pFeature,
    OneHotFeature,
    OrdinalFeature,
    PassthroughFeature,
    PerformanceDriftDetector,
    PredictionDriftDetector,
    StandardScaleFeature,
    StringField,
    format_duration,
    higher_is_better,
    metrics_for,
    parse_duration,
    parse_spec,
)

pytestmark = pytest.mark.unit


def everything() -> dict[str, Any]:
    """A spec document that uses every field type and every transform once at least."""
    return {
        "name": "everything",
        "entity": "user",
        "fields": {
            "price": {"type": "float", "min": 0, "max": 1e6},
            "items": {"type": "int", "min": 1, "max": 100},
            "premium": {"type": "bool"},
            "note": {"type": "string", "max_length": 200, "required": False},
            "plan": {"type": "category", "values": ["free", "pro", "team"]},
            "region": {"type": "category", "nullable": True},
            "limit": {"type": "float", "required": False},
        },
        "label": {
            "name": "tier",
            "task": "multiclass",
            "type": "string",
            "classes": ["low", "mid", "high"],
        },
        "features": [
            {"name": "price", "transform": "passthrough", "field": "price"},
            {"name": "premium", "transform": "passthrough", "field": "premium"},
            {"name": "log_price", "transform": "log1p", "field": "price"},
            {
                "name": "items_z",
                "transform": "standard_scale",
                "field": "items",
                "mean": 3,
                "std": 1.5,
            },
            {
                "name": "limit",
                "transform": "clip",
                "field": "limit",
                "lower": 0,
                "upper": 500,
                "fill": 0,
            },
            {
                "name": "plan",
                "transform": "one_hot",
                "field": "plan",
                "categories": ["free", "pro"],
            },
            {
                "name": "region",
                "transform": "ordinal",
                "field": "region",
                "categories": ["eu", "us"],
            },
            {
                "name": "note_region",
                "transform": "compare",
                "left": "note",
                "op": "==",
                "right": "region",
            },
            {
                "name": "over_limit",
                "transform": "compare",
                "left": "price",
                "op": ">",
                "right": "limit",
            },
            {"name": "hour", "transform": "hour_of_day"},
            {"name": "weekday", "transform": "day_of_week", "timezone": "America/New_York"},
            {"name": "n_1d", "transform": "aggregate", "fn": "count", "window": "1d"},
            {
                "name": "spend_7d",
                "transform": "aggregate",
                "fn": "sum",
                "field": "price",
                "window": "7d",
            },
            {
                "name": "premium_rate",
                "transform": "aggregate",
                "fn": "mean",
                "field": "premium",
                "window": "30s",
            },
            {
                "name": "items_min",
                "transform": "aggregate",
                "fn": "min",
                "field": "items",
                "window": "15m",
            },
        ],
        "model": {
            "kind": "river",
            "pipeline": [
                {"estimator": "river.preprocessing.StandardScaler"},
                {"estimator": "river.linear_model.SoftmaxRegression"},
            ],
        },
        "training": {"window": "30d", "holdout": 0.1, "min_labelled_rows": 10, "schedule": "6h"},
        "drift": {
            "detectors": [
                {
                    "signal": "data",
                    "method": "chi2",
                    "features": ["plan", "region"],
                    "threshold": 0.01,
                },
                {"signal": "data", "method": "ks", "threshold": 0.2},
                {"signal": "prediction", "method": "psi", "threshold": 0.1},
                {"signal": "performance", "method": "kswin", "params": {"alpha": 0.01}},
                {"signal": "performance", "method": "ddm"},
            ]
        },
        "promotion": {"metric": "log_loss", "mode": "manual"},
    }


def test_every_kind_parses_into_its_class() -> None:
    spec = DatasetSpec.from_document(everything())
    assert [type(f) for f in spec.fields.values()] == [
        FloatField,
        IntField,
        BoolField,
        StringField,
        CategoryField,
        CategoryField,
        FloatField,
    ]
    assert [type(f) for f in spec.features] == [
        PassthroughFeature,
        PassthroughFeature,
        Log1pFeature,
        StandardScaleFeature,
        ClipFeature,
        OneHotFeature,
        OrdinalFeature,
        CompareFeature,
        CompareFeature,
        HourOfDayFeature,
        DayOfWeekFeature,
        AggregateFeature,
        AggregateFeature,
        AggregateFeature,
        AggregateFeature,
    ]
    assert [type(d) for d in spec.drift.detectors] == [
        DataDriftDetector,
        DataDriftDetector,
        PredictionDriftDetector,
        PerformanceDriftDetector,
        PerformanceDriftDetector,
    ]


def test_every_kind_survives_yaml_and_the_document_round_trip() -> None:
    spec = parse_spec(yaml.safe_dump(everything()))
    assert DatasetSpec.from_document(spec.to_document()) == spec
    assert spec == DatasetSpec.from_document(everything())


def test_defaults() -> None:
    spec = DatasetSpec.from_document(everything())
    assert spec.fields["price"].required
    assert not spec.fields["price"].nullable
    assert spec.fields["note"].optional
    assert spec.fields["region"].optional
    hour = spec.features[9]
    assert isinstance(hour, HourOfDayFeature)
    assert hour.timezone == "UTC"
    ks = spec.drift.detectors[1]
    assert isinstance(ks, DataDriftDetector)
    assert ks.features == "all"
    assert (spec.drift.min_samples, spec.drift.cooldown) == (500, 3600)
    assert spec.promotion.min_improvement == 0.0


def test_feature_inputs_and_columns() -> None:
    spec = DatasetSpec.from_document(everything())
    by_name = {f.name: f for f in spec.features}
    assert by_name["over_limit"].inputs() == ("price", "limit")
    assert by_name["n_1d"].inputs() == ()
    assert by_name["hour"].inputs() == ()
    assert by_name["plan"].columns() == ("plan:free", "plan:pro", "plan:__unknown__")
    assert by_name["region"].columns() == ("region",)
    assert len(spec.feature_columns()) == len(set(spec.feature_columns())) == 17


def test_model_steps() -> None:
    spec = DatasetSpec.from_document(everything())
    assert [s.class_name for s in spec.model.steps()] == ["StandardScaler", "SoftmaxRegression"]
    assert spec.model.final.estimator == "river.linear_model.SoftmaxRegression"


def test_performance_detector_names_its_river_class() -> None:
    detector = DatasetSpec.from_document(everything()).drift.detectors[3]
    assert isinstance(detector, PerformanceDriftDetector)
    assert detector.river_class == "river.drift.KSWIN"


@pytest.mark.parametrize(
    ("label", "metric"),
    [
        ({"name": "y", "task": "binary", "type": "int", "classes": [0, 1], "positive": 1}, "f1"),
        (
            {
                "name": "y",
                "task": "binary",
                "type": "string",
                "classes": ["ok", "bad"],
                "positive": "bad",
            },
            "recall_at_fpr",
        ),
        ({"name": "y", "task": "regression", "type": "int"}, "r2"),
    ],
)
def test_label_forms(label: dict[str, Any], metric: str) -> None:
    document = everything()
    document["label"] = label
    document["model"] = {"kind": "sklearn", "estimator": "sklearn.linear_model.Ridge"}
    if label["task"] == "binary":
        document["model"]["estimator"] = "sklearn.linear_model.LogisticRegression"
    else:
        document["drift"]["detectors"].pop()  # ddm needs a classifier
    document["promotion"] = {"metric": metric, "mode": "automatic"}
    if metric == "recall_at_fpr":
        document["promotion"]["max_fpr"] = 0.01
    assert DatasetSpec.from_document(document).label.task == label["task"]


def test_metrics_know_their_direction_and_tasks() -> None:
    assert higher_is_better("roc_auc")
    assert higher_is_better("accuracy")
    assert not higher_is_better("log_loss")
    assert not higher_is_better("mae")
    assert metrics_for("regression") == ("mae", "rmse", "r2")
    assert "roc_auc" in metrics_for("binary")
    assert "mae" not in metrics_for("binary")
    assert all(metrics_for(task) for task in ("binary", "multiclass", "regression"))
    assert set(METRICS) >= {"roc_auc", "accuracy", "log_loss", "f1", "recall_at_fpr", "mae", "rmse"}
    with pytest.raises(KeyError):
        higher_is_better("precision@k")


@pytest.mark.parametrize(
    ("text", "seconds", "canonical"),
    [
        ("30s", 30, "30s"),
        ("15m", 900, "15m"),
        ("1h", 3600, "1h"),
        ("7d", 604_800, "7d"),
        ("90m", 5400, "90m"),
        ("60m", 3600, "1h"),
        ("86400s", 86_400, "1d"),
    ],
)
def test_durations(text: str, seconds: int, canonical: str) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == canonical


@pytest.mark.parametrize("text", ["10 parsecs", "1.5h", "h", "0s", "-1m", "1w", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_copy_of_the_document_is_independent() -> None:
    document = everything()
    before = copy.deepcopy(document)
    DatasetSpec.from_document(document)
    assert document == before
