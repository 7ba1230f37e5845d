"""What the trainer trains on in the tests: a small fraud-like spec and offline-store rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from driftloop_contracts import SpecApplied
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec

FRAUD = Path(__file__).parents[3] / "specs" / "fraud.yaml"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
FAST_MODEL = {
    "kind": "sklearn",
    "estimator": "sklearn.linear_model.LogisticRegression",
    "params": {"C": 1.0, "max_iter": 500},
}


def trainer_spec(
    dataset: str, *, model: dict[str, Any] | None = None, version: int = 1, **training: Any
) -> tuple[DatasetSpec, SpecApplied]:
    """specs/fraud.yaml as ``dataset``'s, with a quick model and a small training policy
    (``training`` overrides it), and the event that applies it as ``version``."""
    document = yaml.safe_load(FRAUD.read_text(encoding="utf-8"))
    document["name"] = dataset
    document["model"] = model or FAST_MODEL
    document["training"] = {"window": "7d", "holdout": 0.25, "min_labelled_rows": 40, **training}
    spec = DatasetSpec.from_document(document)
    event = SpecApplied(
        event_id=f"spec.applied:{dataset}:{version}",
        occurred_at=T0 + timedelta(seconds=version),
        producer="registry",
        dataset=dataset,
        spec_version=version,
        spec=spec.to_document(),
        digest=spec.digest(),
    )
    return spec, event


def offline_rows(
    spec: DatasetSpec,
    count: int,
    *,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=5),
    seed: int = 0,
    label: bool | None = None,
) -> list[Document]:
    """``count`` labelled rows of ``spec`` as the feature service stores them, ``step`` apart
    from ``start``: fraud where the first feature is high (or every label ``label``)."""
    rng = np.random.default_rng(seed)
    columns = list(spec.feature_columns())
    values = rng.normal(size=(count, len(columns)))
    fraud = values[:, 0] + rng.normal(scale=0.7, size=count) > 0.5
    return [
        {
            "dataset": spec.name,
            "subject_event_id": f"{spec.name}-{seed}-{n}",
            "entity_id": f"card-{n % 7}",
            "occurred_at": start + n * step,
            "spec_version": 1,
            "feature_names": columns,
            "values": values[n].tolist(),
            "vector_event_id": f"features:{spec.name}-{seed}-{n}",
            "label": bool(fraud[n]) if label is None else label,
            "label_event_id": f"outcome-{spec.name}-{seed}-{n}",
            "served_at": start + n * step,
        }
        for n in range(count)
    ]
