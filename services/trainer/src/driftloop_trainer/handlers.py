"""Kafka handlers: each train request and drift alarm is recorded as a trigger, nothing more.

Recording is quick and idempotent (by event id), so a batch commits at once; the worker loop
trains. A redelivered batch records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from driftloop_contracts import Event
from driftloop_runtime import BatchHandler, BatchResult, Incoming
from driftloop_trainer.clock import Clock, utc_now
from driftloop_trainer.store import TriggerStore
from driftloop_trainer.triggers import Trigger

__all__ = ["record_triggers"]

E = TypeVar("E", bound=Event)


def record_triggers(
    store: TriggerStore,
    trigger_of: Callable[[Incoming[E]], Trigger],
    noticed: Callable[[int], None],
    clock: Clock = utc_now,
) -> BatchHandler[E]:
    """A batch handler that records each event's trigger and tells ``noticed`` how many were
    new."""

    async def handle(batch: Sequence[Incoming[E]]) -> BatchResult:
        noticed(await store.record([trigger_of(item) for item in batch], clock()))
        return BatchResult()

    return handle
