"""The trainer's worker in the test process, on the real document store, with a fake clock and
a publisher that keeps what it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from driftloop_contracts import TrainingCompleted
from driftloop_offline import INDEXES as OFFLINE_INDEXES
from driftloop_runtime import Outgoing, SpecCatalog, ensure_indexes
from driftloop_runtime.models import ModelCatalog
from driftloop_trainer.config import TrainerSettings
from driftloop_trainer.main import assemble
from driftloop_trainer.store import INDEXES, TriggerStore
from driftloop_trainer.triggers import Reason, Trigger
from driftloop_trainer.worker import Worker
from tests.integration.trainer.data import T0

SIGNING_KEY = b"k" * 32


@dataclass
class FakeClock:
    """A clock that moves only when told."""

    now: datetime = T0 + timedelta(days=30)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class KeptEvents:
    """An ``EventPublisher`` that keeps every published event."""

    outgoing: list[Outgoing] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        self.outgoing.extend(outgoing)

    @property
    def results(self) -> list[TrainingCompleted]:
        return [o.event for o in self.outgoing if isinstance(o.event, TrainingCompleted)]


@dataclass
class Trainer:
    """Workers on one database, sharing a clock, a publisher and the catalogs."""

    database: AsyncDatabase[dict[str, Any]]
    clock: FakeClock = field(default_factory=FakeClock)
    published: KeptEvents = field(default_factory=KeptEvents)
    specs: SpecCatalog = field(default_factory=SpecCatalog)
    models: ModelCatalog = field(default_factory=ModelCatalog)

    async def ready(self) -> Trainer:
        await ensure_indexes(self.database, {**INDEXES, **OFFLINE_INDEXES})  # as main.py does
        return self

    def worker(self, worker_id: str = "w1", **settings: Any) -> Worker:
        options = {"lease_s": 30.0, "poll_interval_s": 0.05, "bootstrap_retry_s": 600.0}
        return assemble(
            TrainerSettings(worker_id=worker_id, **(options | settings)),
            self.database,
            specs=self.specs,
            models=self.models,
            publisher=self.published,
            signing_key=SIGNING_KEY,
            code_version="test",
            clock=self.clock,
        )

    async def trigger(
        self, dataset: str, reason: Reason = "manual", event_id: str = "", **fields: Any
    ) -> None:
        """Record a trigger as the handlers do, now."""
        trigger = Trigger(
            event_id or f"{reason}-{self.clock.now.timestamp()}-{len(self.published.outgoing)}",
            dataset,
            reason,
            "test",
            self.clock.now,
            **fields,
        )
        await TriggerStore(self.database).record([trigger], self.clock.now)
        self.clock.advance(seconds=1)

    async def runs(self, dataset: str) -> list[dict[str, Any]]:
        cursor = self.database["trainer_runs"].find({"dataset": dataset}).sort("number")
        return await cursor.to_list()
