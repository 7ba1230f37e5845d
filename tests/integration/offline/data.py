"""Served feature vectors and outcomes as the offline store receives them, made up for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftloop_contracts import FeaturesComputed, OutcomeValidated

T0 = datetime(2026, 11, 1, tzinfo=UTC)
COLUMNS = ["log_amount", "foreign_card", "tx_count_1h"]


def vector(
    dataset: str,
    n: int,
    *,
    at: datetime | None = None,
    label: bool | None = None,
    columns: list[str] = COLUMNS,
) -> FeaturesComputed:
    """The vector of event ``n`` (values ``n``, ``n + 0.5``, ... ), a second apart from T0."""
    return FeaturesComputed.example().model_copy(
        update={
            "event_id": f"features:{dataset}-{n}",
            "dataset": dataset,
            "subject_event_id": f"{dataset}-{n}",
            "entity_id": f"card-{n % 7}",
            "occurred_at": at or T0 + timedelta(seconds=n),
            "feature_names": columns,
            "values": [n + 0.5 * c for c in range(len(columns))],
            "label": label,
        }
    )


def outcome(
    dataset: str, n: int, label: bool, *, after: timedelta, name: str = "a"
) -> OutcomeValidated:
    """An outcome of event ``n`` stamped ``after`` its event (``name`` tells apart two)."""
    return OutcomeValidated.example().model_copy(
        update={
            "event_id": f"outcome.validated:{dataset}-{n}-{name}",
            "dataset": dataset,
            "subject_event_id": f"{dataset}-{n}",
            "entity_id": f"card-{n % 7}",
            "label": label,
            "occurred_at": T0 + timedelta(seconds=n) + after,
        }
    )
