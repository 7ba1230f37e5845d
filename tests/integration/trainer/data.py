"""What the trainer trains on in the tests: a small fraud-like spec, and labelled rows of it as
the offline store's reader gives them (a frame) or as they reach it (vectors and outcomes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from numpy.typing import NDArray

from driftloop_contracts import (
    DATA_VALIDATED_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    FeaturesComputed,
    OutcomeValidated,
    SpecApplied,
)
from driftloop_offline import LABEL, SUBJECT, TIME
from driftloop_spec import DatasetSpec

__all__ = [
    "FAST_MODEL",
    "FRAUD",
    "T0",
    "labelled_rows",
    "labels_later",
    "served_vectors",
    "trainer_spec",
]

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


@dataclass(frozen=True)
class _Rows:
    """Generated rows: fraud where the first feature is high (or every label ``label``)."""

    subjects: list[str]
    times: list[datetime]
    values: NDArray[np.float64]
    labels: list[bool]


def _generate(
    spec: DatasetSpec,
    count: int,
    *,
    start: datetime,
    step: timedelta,
    seed: int,
    label: bool | None,
) -> _Rows:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(count, len(spec.feature_columns())))
    fraud = values[:, 0] + rng.normal(scale=0.7, size=count) > 0.5
    return _Rows(
        subjects=[f"{spec.name}-{seed}-{n}" for n in range(count)],
        times=[start + n * step for n in range(count)],
        values=values,
        labels=[bool(f) if label is None else label for f in fraud],
    )


def labelled_rows(
    spec: DatasetSpec,
    count: int,
    *,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=5),
    seed: int = 0,
    label: bool | None = None,
) -> pd.DataFrame:
    """``count`` labelled rows of ``spec`` as the offline store's reader gives them (``TIME``,
    ``LABEL``, ``SUBJECT``, then the feature columns, oldest first), ``step`` apart from
    ``start``: fraud where the first feature is high (or every label ``label``)."""
    rows = _generate(spec, count, start=start, step=step, seed=seed, label=label)
    frame = pd.DataFrame(rows.values, columns=list(spec.feature_columns()))
    frame.insert(0, TIME, pd.to_datetime(rows.times, utc=True))
    frame.insert(1, LABEL, pd.Series(rows.labels, dtype=object))
    frame.insert(2, SUBJECT, rows.subjects)
    return frame


def served_vectors(
    spec: DatasetSpec,
    count: int,
    *,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=5),
    seed: int = 0,
    label: bool | None = None,
) -> list[FeaturesComputed]:
    """The rows of ``labelled_rows`` (same arguments, same values and labels) as the feature
    service serves them: feature vectors, each carrying its label inline."""
    rows = _generate(spec, count, start=start, step=step, seed=seed, label=label)
    columns = list(spec.feature_columns())
    return [
        FeaturesComputed(
            event_id=f"features:{subject}",
            occurred_at=rows.times[n],
            producer="feature",
            dataset=spec.name,
            entity_id=f"card-{n % 7}",
            subject_event_id=subject,
            spec_version=1,
            feature_names=columns,
            values=rows.values[n].tolist(),
            label=rows.labels[n],
            source_topic=DATA_VALIDATED_TOPIC,
            source_partition=0,
            source_offset=n,
        )
        for n, subject in enumerate(rows.subjects)
    ]


def labels_later(
    vectors: Sequence[FeaturesComputed], after: timedelta = timedelta(hours=1)
) -> tuple[list[FeaturesComputed], list[OutcomeValidated]]:
    """``vectors`` without their inline labels, and those labels as outcomes, each stamped
    ``after`` its event: what the offline store receives when labels come later."""
    unlabelled = [v.model_copy(update={"label": None}) for v in vectors]
    later = [
        OutcomeValidated(
            event_id=f"outcome.validated:{v.subject_event_id}",
            occurred_at=v.occurred_at + after,
            producer="ingestion",
            dataset=v.dataset,
            subject_event_id=v.subject_event_id,
            label=v.label,
            entity_id=v.entity_id,
            spec_version=v.spec_version,
            source_topic=OUTCOMES_VALIDATED_TOPIC,
            source_partition=0,
            source_offset=n,
        )
        for n, v in enumerate(vectors)
        if v.label is not None
    ]
    return unlabelled, later
