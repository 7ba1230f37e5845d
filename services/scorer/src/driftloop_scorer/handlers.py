"""Kafka handlers: feature vectors in, predictions out; the refused model's dead letter."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from driftloop_contracts import (
    MODELS_PROMOTED_TOPIC,
    MODELS_ROLLED_BACK_TOPIC,
    SPECS_TOPIC,
    FeaturesComputed,
    ModelPromoted,
    ModelRolledBack,
    SpecApplied,
)
from driftloop_runtime import (
    BatchHandler,
    BatchResult,
    EventPublisher,
    Incoming,
    Rejection,
    RuntimeSettings,
    SourceRecord,
    SpecCatalog,
    dead_letter,
    read_topic,
    scan_topic,
)
from driftloop_scorer.scoring import PRODUCER, Scorer
from driftloop_scorer.serving import Refusal
from driftloop_scorer.swaps import RefusalReporter

__all__ = ["catch_up_on_specs", "dead_letter_refusals", "score_vectors"]


def score_vectors(scorer: Scorer, ready: asyncio.Event) -> BatchHandler[FeaturesComputed]:
    """Score each batch, once the versions serving at start are loaded."""

    async def handle(batch: Sequence[Incoming[FeaturesComputed]]) -> BatchResult:
        await ready.wait()
        return scorer.score(batch)

    return handle


async def catch_up_on_specs(settings: RuntimeSettings, specs: SpecCatalog) -> None:
    """Read the applied specs again: a version may be promoted before this scorer's live
    follower has delivered its dataset's spec (the two topics are not ordered)."""
    for event in await read_topic(settings, SPECS_TOPIC, SpecApplied):
        specs.apply(event)


def dead_letter_refusals(
    settings: RuntimeSettings, publisher: EventPublisher, consumer_group: str
) -> RefusalReporter:
    """Dead-letter the lifecycle record of each refused version, with the refusal's reason
    (the same dead-letter id every time the group refuses that record)."""

    async def report(refusal: Refusal) -> None:
        source = await _lifecycle_record(settings, refusal.event_id)
        if source is None:
            return  # the refusal is still logged, counted and shown by GET /v1/models
        reason = f"model refused: {refusal.reason}"
        rejection = Rejection(source, reason, error_type="model_refused", event_id=refusal.event_id)
        letter = dead_letter(rejection, service=PRODUCER, consumer_group=consumer_group)
        await publisher.publish([letter])

    return report


async def _lifecycle_record(settings: RuntimeSettings, event_id: str) -> SourceRecord | None:
    """Where the promotion or rollback ``event_id`` is in the log (with its bytes). The topics
    are small and read to their end, which also closes the reader."""
    found: SourceRecord | None = None
    for topic, contract in _ALIAS_TOPICS:
        async for chunk in scan_topic(settings, topic, contract, containing=event_id.encode()):
            found = next((i.source for i in chunk if i.event.event_id == event_id), found)
    return found


_ALIAS_TOPICS: tuple[tuple[str, type[ModelPromoted] | type[ModelRolledBack]], ...] = (
    (MODELS_PROMOTED_TOPIC, ModelPromoted),
    (MODELS_ROLLED_BACK_TOPIC, ModelRolledBack),
)
