"""Specs and events the ingestion tests share: the fraud spec with a field of every type."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftloop_contracts import DataEvent, OutcomeEvent, SpecApplied, spec_digest
from driftloop_contracts.types import FieldValue, Label
from driftloop_spec import DatasetSpec, load_spec

__all__ = [
    "DATASET",
    "VALID_FIELDS",
    "applied",
    "data_event",
    "outcome_event",
    "spec",
    "spec_document",
]

FRAUD = Path(__file__).resolve().parents[3] / "specs" / "fraud.yaml"
DATASET = "shop"
WHEN = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)

VALID_FIELDS: dict[str, FieldValue] = {
    "amount": 42.5,
    "merchant_category": "grocery",
    "country": "DE",
    "card_country": "DE",
    "items": 3,
    "is_online": True,
}


def spec_document(dataset: str = DATASET, *, max_amount: float = 1000.0) -> dict[str, Any]:
    """specs/fraud.yaml as ``dataset``, amount capped at ``max_amount``, plus an int, a bool and
    an optional nullable string field."""
    document = load_spec(FRAUD).to_document()
    document["name"] = dataset
    document["fields"]["amount"]["max"] = max_amount
    document["fields"] |= {
        "items": {"type": "int", "min": 1, "max": 50, "required": True, "nullable": False},
        "is_online": {"type": "bool", "required": True, "nullable": False},
        "note": {"type": "string", "max_length": 10, "required": False, "nullable": True},
    }
    return document


def spec(dataset: str = DATASET, *, max_amount: float = 1000.0) -> DatasetSpec:
    return DatasetSpec.from_document(spec_document(dataset, max_amount=max_amount))


def applied(version: int, dataset: str = DATASET, *, max_amount: float = 1000.0) -> SpecApplied:
    document = spec_document(dataset, max_amount=max_amount)
    return SpecApplied(
        event_id=f"spec.applied:{dataset}:{version}",
        occurred_at=WHEN,
        producer="registry",
        dataset=dataset,
        spec_version=version,
        spec=document,
        digest=spec_digest(document),
    )


def data_event(
    event_id: str = "e-1",
    *,
    dataset: str = DATASET,
    entity_id: str = "card-1",
    label: Label | None = None,
    drop: tuple[str, ...] = (),
    changes: Mapping[str, FieldValue] | None = None,
    **fields: FieldValue,
) -> DataEvent:
    """A valid data event, with ``fields`` (and ``changes``) changed and the fields in ``drop``
    left out."""
    merged = VALID_FIELDS | dict(changes or {}) | fields
    values = {k: v for k, v in merged.items() if k not in drop}
    return DataEvent(
        event_id=event_id,
        dataset=dataset,
        entity_id=entity_id,
        occurred_at=WHEN,
        fields=values,
        label=label,
    )


def outcome_event(
    event_id: str = "o-1",
    *,
    label: Label = True,
    dataset: str = DATASET,
    entity_id: str | None = "card-1",
    subject: str = "e-1",
) -> OutcomeEvent:
    return OutcomeEvent(
        event_id=event_id,
        dataset=dataset,
        subject_event_id=subject,
        label=label,
        occurred_at=WHEN,
        entity_id=entity_id,
    )
