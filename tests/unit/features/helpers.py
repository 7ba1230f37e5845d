"""Shared helpers of the feature tests: small specs, events and reading columns back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from driftloop_features import DataRow, FeatureBatch, FieldValue
from driftloop_spec import DatasetSpec, load_spec

__all__ = ["FRAUD", "T0", "column", "event", "load_fraud", "spec_of"]

FRAUD = Path(__file__).resolve().parents[3] / "specs" / "fraud.yaml"

T0 = datetime.fromisoformat("2024-06-01T10:00:00+00:00")
"""Time zero of the window tests' tables."""


def spec_of(fields: dict[str, Any], features: list[dict[str, Any]]) -> DatasetSpec:
    """A valid spec with these fields and features (the rest is whatever passes validation)."""
    return DatasetSpec.from_document(
        {
            "name": "tiny",
            "entity": "user",
            "fields": fields,
            "label": {"name": "target", "task": "regression", "type": "float"},
            "features": features,
            "model": {"kind": "sklearn", "estimator": "sklearn.linear_model.Ridge"},
            "training": {"window": "7d", "holdout": 0.2, "min_labelled_rows": 10},
            "drift": {"detectors": [{"signal": "prediction", "method": "ks", "threshold": 0.1}]},
            "promotion": {"metric": "mae", "mode": "manual"},
        }
    )


def event(event_id: str, entity_id: str = "a", seconds: float = 0, **fields: FieldValue) -> DataRow:
    """A data event ``seconds`` after ``T0``."""
    return DataRow(event_id, entity_id, T0 + timedelta(seconds=seconds), fields)


def column(batch: FeatureBatch, name: str) -> list[float]:
    """One column of a batch, by name, as plain floats."""
    values: list[float] = batch.values[:, batch.columns.index(name)].tolist()
    return values


def load_fraud() -> DatasetSpec:
    """The worked fraud example of specs/."""
    return load_spec(FRAUD)
