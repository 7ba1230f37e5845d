"""Kafka handlers: training results in, lifecycle events out."""

from __future__ import annotations

from collections.abc import Sequence

from driftloop_contracts import PerformanceReported, TrainingCompleted
from driftloop_registry.registry import Registry
from driftloop_runtime import BatchHandler, BatchResult, Incoming, Outgoing

__all__ = ["on_performance_reported", "on_training_completed"]


def on_training_completed(registry: Registry) -> BatchHandler[TrainingCompleted]:
    """The batch handler of ``training completed``: register each result, in order."""

    async def handle(batch: Sequence[Incoming[TrainingCompleted]]) -> BatchResult:
        outputs: list[Outgoing] = []
        for item in batch:
            events = await registry.register_training(item.event)
            outputs += [Outgoing(e.topic, e.key, e.event, item.source) for e in events]
        return BatchResult(outputs=outputs)

    return handle


def on_performance_reported(registry: Registry) -> BatchHandler[PerformanceReported]:
    """The batch handler of ``performance reported``: review the shadow each one compares."""

    async def handle(batch: Sequence[Incoming[PerformanceReported]]) -> BatchResult:
        outputs: list[Outgoing] = []
        for item in batch:
            events = await registry.review_shadow(item.event)
            outputs += [Outgoing(e.topic, e.key, e.event, item.source) for e in events]
        return BatchResult(outputs=outputs)

    return handle
