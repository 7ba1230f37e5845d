"""The stream ``bench.offline_store`` writes: card transactions served as feature vectors of
the fraud spec, each labelled by an outcome a fixed number of events later; and the window
span that holds a given number of its labelled rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from driftloop_contracts import (
    DATA_VALIDATED_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    FeaturesComputed,
    OutcomeValidated,
)
from driftloop_spec import DatasetSpec

__all__ = ["GAP", "START", "Stream", "label_rows", "subject", "window_span"]

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
GAP = timedelta(seconds=1)  # event time between two transactions
CARDS = 1_000
FRAUD_EVERY = 50  # every 50th transaction is fraud: 2%


class Stream:
    """Transaction ``n``'s served vector and its outcome: ``n`` seconds after ``START``, the
    outcome stamped ``label_lag`` seconds after its transaction. Built from one template each
    (no validation per event) and a pool of feature values."""

    def __init__(self, spec: DatasetSpec, label_lag: int, pool: int = 4_096) -> None:
        columns = list(spec.feature_columns())
        values = np.random.default_rng(0).gamma(2.0, 2.0, size=(pool, len(columns)))
        self.values: list[list[float]] = values.round(3).tolist()
        self.label_after = label_lag * GAP
        self.vector = FeaturesComputed.example().model_copy(
            update={
                "dataset": spec.name,
                "spec_version": 1,
                "feature_names": columns,
                "source_topic": DATA_VALIDATED_TOPIC,
            }
        )
        self.outcome = OutcomeValidated.example().model_copy(
            update={
                "dataset": spec.name,
                "spec_version": 1,
                "source_topic": OUTCOMES_VALIDATED_TOPIC,
            }
        )

    def vectors(self, numbers: range) -> list[FeaturesComputed]:
        return [
            self.vector.model_copy(
                update={
                    "event_id": f"features:{subject(n)}",
                    "causation_id": f"data.validated:{subject(n)}",
                    "subject_event_id": subject(n),
                    "entity_id": f"card-{n % CARDS}",
                    "occurred_at": START + n * GAP,
                    "values": self.values[n % len(self.values)],
                    "source_offset": n,
                }
            )
            for n in numbers
        ]

    def outcomes(self, numbers: range) -> list[OutcomeValidated]:
        return [
            self.outcome.model_copy(
                update={
                    "event_id": f"outcome.validated:{subject(n)}",
                    "causation_id": subject(n),
                    "subject_event_id": subject(n),
                    "entity_id": f"card-{n % CARDS}",
                    "label": n % FRAUD_EVERY == 0,
                    "occurred_at": START + n * GAP + self.label_after,
                    "source_offset": n,
                }
            )
            for n in numbers
        ]


def subject(n: int) -> str:
    """Transaction ``n``'s event id, shaped like the UUIDs ingestion gives."""
    return f"00000000-0000-4000-8000-{n:012x}"


def label_rows(rows: range, lag: int) -> range:
    """The transactions whose labels arrive with the batch of ``rows``: ``lag`` events behind."""
    return range(max(0, rows.start - lag), max(0, rows.stop - lag))


def window_span(labelled: int, lag: int) -> timedelta:
    """The span that ends at the newest row and holds the newest ``labelled`` labelled rows,
    the ``lag`` newest rows (labels not in yet) after them; half a gap more, so that a reader
    that ends the window a little after the newest row still finds the first of them."""
    return (labelled + lag - 0.5) * GAP
