"""What ingestion decides, as pure functions: is an event valid for its dataset's spec (the
spec library's ``driftloop_spec.validation``, re-exported here) and what validated event it
becomes. No I/O: the handlers and the HTTP API feed it plain values.

A verdict lists every problem of an event, not just the first, so a publisher fixes them all at
once. Fields the spec does not declare are not problems: they are reported as warnings and left
out of the validated event.
"""

from __future__ import annotations

import hashlib

from driftloop_contracts import DataEvent, DataValidated, OutcomeEvent, OutcomeValidated
from driftloop_runtime import SourceRecord, construct
from driftloop_spec import DatasetSpec
from driftloop_spec.validation import (
    Problem,
    ProblemKind,
    Verdict,
    validate_data_event,
    validate_outcome,
)

__all__ = [
    "PRODUCER",
    "Problem",
    "ProblemKind",
    "Verdict",
    "derived_id",
    "outcome_key",
    "size_problem",
    "validate_data_event",
    "validate_outcome",
    "validated_data",
    "validated_outcome",
]

PRODUCER = "ingestion"

_MAX_ID = 128  # driftloop_contracts.types.ID_PATTERN: 1 to 128 characters


def size_problem(size: int, limit: int) -> Problem | None:
    """A problem if a raw event of ``size`` bytes is larger than ``limit``."""
    if size <= limit:
        return None
    return Problem("too_large", "message", f"{size} bytes, over the limit of {limit} bytes")


def derived_id(prefix: str, event_id: str) -> str:
    """``prefix:event_id``, the same every time (a replay yields the same id); hashed when the
    result would be longer than an id may be."""
    candidate = f"{prefix}:{event_id}"
    if len(candidate) <= _MAX_ID:
        return candidate
    return f"{prefix}:sha256-{hashlib.sha256(event_id.encode()).hexdigest()[:48]}"


def validated_data(
    event: DataEvent, *, spec: DatasetSpec, spec_version: int, source: SourceRecord
) -> DataValidated:
    """The validated form of a valid data event: declared fields only, with the spec version
    and where it was read. Built without validating again: every value comes from the event,
    which passed its contract and the spec, or from the record's position."""
    return construct(
        DataValidated,
        event_id=derived_id("data.validated", event.event_id),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        causation_id=event.event_id,
        dataset=event.dataset,
        entity_id=event.entity_id,
        subject_event_id=event.event_id,
        fields={name: value for name, value in event.fields.items() if name in spec.fields},
        label=event.label,
        spec_version=spec_version,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
    )


def validated_outcome(
    event: OutcomeEvent, *, spec_version: int, source: SourceRecord
) -> OutcomeValidated:
    """The validated form of a valid outcome event (built as ``validated_data`` is)."""
    return construct(
        OutcomeValidated,
        event_id=derived_id("outcome.validated", event.event_id),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        causation_id=event.event_id,
        dataset=event.dataset,
        subject_event_id=event.subject_event_id,
        label=event.label,
        entity_id=event.entity_id,
        spec_version=spec_version,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
    )


def outcome_key(event: OutcomeEvent | OutcomeValidated) -> str:
    """The Kafka key of an outcome: its subject's entity id, or the subject event id without."""
    return event.entity_id if event.entity_id is not None else event.subject_event_id
