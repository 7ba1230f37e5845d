"""Kafka handlers: validated data in, feature vectors out; vectors and labels into the offline
store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from driftloop_contracts import FeaturesComputed, OutcomeValidated
from driftloop_offline import OfflineWriter
from driftloop_runtime import BatchHandler, BatchResult, Incoming

__all__ = ["store_labels", "store_rows"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def store_rows(store: OfflineWriter, clock: Clock = _now) -> BatchHandler[FeaturesComputed]:
    """Append each batch of served feature vectors to the offline store, in bulk."""

    async def handle(batch: Sequence[Incoming[FeaturesComputed]]) -> BatchResult:
        await store.add_rows([item.event for item in batch], clock())
        return BatchResult()

    return handle


def store_labels(store: OfflineWriter, clock: Clock = _now) -> BatchHandler[OutcomeValidated]:
    """Append each batch of labels to the offline store (training joins them to their rows),
    then expire the labels that waited too long for a row."""

    async def handle(batch: Sequence[Incoming[OutcomeValidated]]) -> BatchResult:
        now = clock()
        await store.add_labels([item.event for item in batch], now)
        await store.expire_labels(now)
        return BatchResult()

    return handle
