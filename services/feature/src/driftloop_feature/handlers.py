"""Kafka handlers: validated data in, feature vectors out; vectors and labels into the offline
store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from driftloop_contracts import FeaturesComputed, OutcomeValidated
from driftloop_feature.offline import OfflineStore
from driftloop_runtime import BatchHandler, BatchResult, Incoming

__all__ = ["store_labels", "store_rows"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def store_rows(store: OfflineStore, clock: Clock = _now) -> BatchHandler[FeaturesComputed]:
    """Write each batch of served feature vectors to the offline store, in bulk."""

    async def handle(batch: Sequence[Incoming[FeaturesComputed]]) -> BatchResult:
        await store.add_rows([item.event for item in batch], clock())
        return BatchResult()

    return handle


def store_labels(store: OfflineStore, clock: Clock = _now) -> BatchHandler[OutcomeValidated]:
    """Join each batch of labels onto their rows (or park them until the rows come)."""

    async def handle(batch: Sequence[Incoming[OutcomeValidated]]) -> BatchResult:
        await store.add_labels([item.event for item in batch], clock())
        return BatchResult()

    return handle
