"""A small card-transaction stream of the fraud spec, as the feature service receives it."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driftloop_contracts import (
    DataValidated,
    OutcomeValidated,
    SpecApplied,
    spec_digest,
)
from driftloop_spec import DatasetSpec, load_spec
from tests.integration.kafka_helpers import produce

FRAUD = Path(__file__).parents[3] / "specs" / "fraud.yaml"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CATEGORIES = ["grocery", "restaurant", "travel", "electronics", "fuel", "online_retail"]


def fraud_spec(dataset: str, **drift: Any) -> tuple[DatasetSpec, SpecApplied]:
    """The fraud spec as ``dataset``'s (its drift policy changed by ``drift``), and the event
    that applies it as version 1."""
    document = load_spec(FRAUD).to_document()
    document["name"] = dataset
    document["drift"] = {**document["drift"], **drift}
    event = SpecApplied(
        event_id=f"spec.applied:{dataset}:1",
        occurred_at=START,
        producer="registry",
        dataset=dataset,
        spec_version=1,
        spec=document,
        digest=spec_digest(document),
    )
    return DatasetSpec.from_document(document), event


def transactions(dataset: str, count: int, cards: int, seed: int = 7) -> list[DataValidated]:
    """``count`` validated transactions over ``cards`` cards, a few seconds to minutes apart."""
    rng = random.Random(seed)
    moment, events = START, []
    for n in range(count):
        moment += timedelta(seconds=rng.randint(1, 90))
        subject = f"txn-{dataset}-{n}"
        events.append(
            DataValidated(
                event_id=f"validated:{subject}",
                occurred_at=moment,
                producer="ingestion",
                causation_id=subject,
                dataset=dataset,
                entity_id=f"card-{rng.randrange(cards)}",
                subject_event_id=subject,
                spec_version=1,
                fields={
                    "amount": round(rng.lognormvariate(3, 1), 2),
                    "merchant_category": rng.choice(CATEGORIES),
                    "country": rng.choice(["FR", "DE", "FR", "FR", "US"]),
                    "card_country": "FR",
                },
                label=(n % 10 == 0) if n % 5 == 0 else None,  # a few labels inline
                source_topic="driftloop.data.v1",
                source_partition=0,
                source_offset=n,
            )
        )
    return events


def outcome(event: DataValidated, label: bool) -> OutcomeValidated:
    """The later label of ``event``."""
    return OutcomeValidated(
        event_id=f"validated:outcome-{event.subject_event_id}-{uuid.uuid4().hex[:6]}",
        occurred_at=event.occurred_at + timedelta(days=1),
        producer="ingestion",
        dataset=event.dataset,
        subject_event_id=event.subject_event_id,
        label=label,
        entity_id=event.entity_id,
        spec_version=1,
        source_topic="driftloop.outcomes.v1",
        source_partition=0,
        source_offset=0,
    )


async def publish(
    bootstrap: str,
    topic: str,
    events: list[DataValidated] | list[OutcomeValidated] | list[SpecApplied],
) -> None:
    """Publish ``events`` keyed as the services key them."""

    def key(event: DataValidated | OutcomeValidated | SpecApplied) -> bytes:
        return str(getattr(event, "entity_id", None) or event.dataset).encode()

    await produce(bootstrap, topic, [(key(e), e.model_dump_json().encode(), []) for e in events])
