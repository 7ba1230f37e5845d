"""Fitted models, served versions and feature vectors of the fraud spec for the scorer's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from driftloop_contracts import FEATURES_TOPIC, DataValidated, FeaturesComputed
from driftloop_runtime import Incoming, ServedVersion, ServingAlias, SourceRecord
from driftloop_scorer.serving import ServedModel
from driftloop_spec import DatasetSpec, load_spec

FRAUD = load_spec(Path(__file__).parents[3] / "specs" / "fraud.yaml")
COLUMNS = list(FRAUD.feature_columns())
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def fitted(seed: int = 0, columns: int = len(COLUMNS)) -> LogisticRegression:
    """A logistic regression over ``columns`` random features, classes False/True."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, columns))
    return LogisticRegression().fit(x, x[:, 0] + x[:, 1] > 0)


def served_version(
    version: int, alias: ServingAlias = "champion", dataset: str = "fraud", **changes: Any
) -> ServedVersion:
    fields: dict[str, Any] = {
        "dataset": dataset,
        "model_name": dataset,
        "version": version,
        "alias": alias,
        "artifact_sha256": "0" * 64,
        "artifact_uri": None,
        "event_id": f"model.promoted:{dataset}:{version}:{alias}:1",
        "occurred_at": T0,
    }
    return ServedVersion(**(fields | changes))


def served(
    version: int,
    alias: ServingAlias = "champion",
    model: Any = None,
    dataset: str = "fraud",
    spec: DatasetSpec = FRAUD,
) -> ServedModel:
    return ServedModel(
        version=served_version(version, alias, dataset),
        model=model if model is not None else fitted(version),
        feature_names=list(spec.feature_columns()),
        classes=spec.label.classes,
        spec_version=1,
        loaded_at=T0,
    )


def vector(n: int, dataset: str = "fraud", names: list[str] | None = None) -> Incoming[Any]:
    """The ``n``-th feature vector of ``dataset``, read at offset ``n`` with a trace header."""
    columns = names or COLUMNS
    rng = np.random.default_rng(n)
    event = FeaturesComputed(
        event_id=f"features:txn-{n}",
        occurred_at=T0 + timedelta(seconds=n),
        producer="feature",
        causation_id=f"data.validated:txn-{n}",
        dataset=dataset,
        entity_id=f"card-{n % 7}",
        subject_event_id=f"txn-{n}",
        spec_version=1,
        feature_names=columns,
        values=rng.normal(size=len(columns)).round(3).tolist(),
        source_topic="driftloop.data.validated.v1",
        source_partition=0,
        source_offset=n,
    )
    headers = (("traceparent", f"00-{TRACE}-00f067aa0ba902b7-01".encode()),)
    source = SourceRecord(FEATURES_TOPIC, 2, 1000 + n, event.entity_id.encode(), b"{}", headers)
    return Incoming(event, source)


def validated(n: int, card: int, at: datetime, amount: float = 10.0) -> DataValidated:
    """The ``n``-th validated transaction of the fraud spec, of card ``card`` at ``at``."""
    return DataValidated(
        event_id=f"data.validated:txn-{n}",
        occurred_at=at,
        producer="ingestion",
        causation_id=f"txn-{n}",
        dataset="fraud",
        entity_id=f"card-{card}",
        subject_event_id=f"txn-{n}",
        spec_version=1,
        fields={
            "amount": amount,
            "merchant_category": "grocery",
            "country": "FR",
            "card_country": "FR",
        },
        source_topic="driftloop.data.v1",
        source_partition=0,
        source_offset=n,
    )
