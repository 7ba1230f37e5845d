"""The worker loop: turn schedules and bootstraps into triggers, and train the datasets that have
triggers waiting, one at a time, each under its lease.

The Kafka handlers only record triggers (and wake the loop); training happens here, outside any
consumer batch, so a long fit never holds a batch past ``max.poll.interval`` into a rebalance.
A replica that crashes leaves its triggers pending and its lease expiring; another replica (or
itself, restarted) serves them once the lease is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from driftloop_contracts import SPECS_TOPIC, SpecApplied, TrainingCompleted
from driftloop_offline import LabelJoin, OfflineReader
from driftloop_runtime import TRANSIENT_ERRORS, SpecCatalog, read_topic
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec
from driftloop_trainer.champion import ChampionLoader
from driftloop_trainer.clock import Clock, utc_now
from driftloop_trainer.config import TrainerSettings
from driftloop_trainer.lease import LeaseStore
from driftloop_trainer.policy import (
    bootstrap_trigger,
    may_start,
    needs_bootstrap,
    needs_post_change_rows,
    schedule_trigger,
    window_start,
)
from driftloop_trainer.results import Run
from driftloop_trainer.runner import Runner
from driftloop_trainer.store import RunStore, TriggerStore
from driftloop_trainer.triggers import Trigger

__all__ = ["Worker"]

logger = logging.getLogger(__name__)


class Worker:
    """Trains datasets with pending triggers, one run at a time."""

    def __init__(
        self,
        settings: TrainerSettings,
        *,
        specs: SpecCatalog,
        champions: ChampionLoader,
        offline: OfflineReader,
        triggers: TriggerStore,
        runs: RunStore,
        leases: LeaseStore,
        runner: Runner,
        code_version: str,
        clock: Clock = utc_now,
    ) -> None:
        """A worker named ``settings.worker_id`` over these stores."""
        self._settings = settings
        self._me = settings.worker_id
        self._specs = specs
        self._champions = champions
        self._offline = offline
        self._triggers = triggers
        self._runs = runs
        self._leases = leases
        self._runner = runner
        self._code_version = code_version
        self._clock = clock
        self._wake = asyncio.Event()
        self._waiting_for_rows = False
        self._stopping = False
        self._has_model: set[str] = set()
        self.counts: Counter[str] = Counter()

    def noticed(self, new_triggers: int) -> None:
        """Count triggers the handlers recorded, and wake the loop for them."""
        self.counts["triggers"] += new_triggers
        if new_triggers:
            self._wake.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the loop while the block runs; on the way out, give the run in hand up to
        ``graceful_timeout_s`` to finish and publish, then cancel it (its triggers stay
        pending, its lease is given up)."""
        task = asyncio.create_task(self._loop(), name="trainer-worker")
        try:
            yield
        finally:
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self._settings.graceful_timeout_s)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def tick(self) -> None:
        """One pass: record due schedule and bootstrap triggers, then serve what waits."""
        await self.plan()
        await self.serve()

    async def plan(self) -> None:
        """Record the schedule and bootstrap triggers that are due, for every dataset that may
        need one: with a schedule, or without a model yet."""
        for dataset in self._specs.datasets():
            if dataset not in self._has_model or self._schedule(dataset) is not None:
                await self._plan(dataset)

    async def serve(self) -> None:
        """Train each dataset whose triggers may start a run now, one after the other."""
        self._waiting_for_rows = False
        for dataset in await self._triggers.pending_datasets():
            if self._stopping:
                return
            await self._serve(dataset)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_plan = loop.time()
        while not self._stopping:
            self._wake.clear()
            try:
                if loop.time() >= next_plan:
                    next_plan = loop.time() + self._settings.plan_interval_s
                    await self.plan()
                await self.serve()
            except Exception:  # the loop outlives any one pass (the store down, a bug)
                logger.exception("a pass of the training loop failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_poll_s())

    def _next_poll_s(self) -> float:
        settings = self._settings
        return settings.post_change_poll_s if self._waiting_for_rows else settings.poll_interval_s

    def _schedule(self, dataset: str) -> int | None:
        held = self._specs.get(dataset)
        return held[1].training.schedule if held else None

    async def _plan(self, dataset: str) -> None:
        held = self._specs.get(dataset)
        if held is None:
            return
        spec, now = held[1], self._clock()
        history = await self._runs.history(dataset)
        if history.succeeded:
            self._has_model.add(dataset)  # for good: a dataset never needs a first model again
        found = [schedule_trigger(dataset, history, spec.training.schedule, now)]
        serving = self._champions.serving(dataset)
        retry_s = self._settings.bootstrap_retry_s
        if needs_bootstrap(history, serving=serving, retry_s=retry_s, now=now):
            needed = spec.training.min_labelled_rows
            rows = await self._labelled_in_window(dataset, spec, needed)
            found.append(bootstrap_trigger(dataset, history, rows, needed, now))
        self.counts["triggers"] += await self._triggers.record([t for t in found if t], now)

    async def _serve(self, dataset: str) -> None:
        pending = await self._triggers.pending(dataset)
        held = self._specs.get(dataset)
        cooldown = held[1].training.cooldown if held else None
        history = await self._runs.history(dataset)
        if not may_start(pending, history, cooldown, self._clock()):
            return
        if held and not await self._post_change_rows_ready(dataset, pending, held[1]):
            self.counts["waiting_for_post_change_rows"] += 1
            self._waiting_for_rows = True
            return
        if not await self._leases.acquire(dataset, self._me, self._clock()):
            self.counts["lease_busy"] += 1
            return
        async with self._holding(dataset):
            await self._under_lease(dataset)

    async def _post_change_rows_ready(
        self, dataset: str, pending: list[Trigger], spec: DatasetSpec
    ) -> bool:
        start = window_start(pending)
        if start is None or not needs_post_change_rows(
            pending, self._clock(), self._settings.post_change_wait_s
        ):
            return True
        needed = spec.training.min_labelled_rows
        return await self._labelled_since(dataset, spec, start, needed) >= needed

    async def _labelled_in_window(self, dataset: str, spec: DatasetSpec, up_to: int) -> int:
        """Labelled rows in the training window that ends at the newest row (up to ``up_to``)."""
        newest = await self._offline.newest_row_time(dataset)
        if newest is None:
            return 0
        start = newest - timedelta(seconds=spec.training.window)
        return await self._labelled_since(dataset, spec, start, up_to)

    async def _labelled_since(
        self, dataset: str, spec: DatasetSpec, since: datetime, up_to: int
    ) -> int:
        join = LabelJoin.of(spec.lateness)
        columns = spec.feature_columns()
        return await self._offline.count_labelled(dataset, columns, join, since=since, up_to=up_to)

    async def _under_lease(self, dataset: str) -> None:
        """Finish what a crashed holder left, then train for what still waits."""
        self.counts["abandoned"] += await self._runs.abandon_running(dataset, self._clock())
        for record in await self._runs.unpublished(dataset):
            await self._republish(record)
        pending = await self._triggers.pending(dataset)
        if not pending:
            return
        held = self._specs.get(dataset) or await self._catch_up_on(dataset)
        if held is None:
            await self._drop(dataset)
            return
        version, spec = held
        run = Run.new(
            await self._runs.next_number(dataset),
            version,
            spec,
            triggers=pending,
            holder=self._me,
            started_at=self._clock(),
            code_version=self._code_version,
        )
        done = await self._runner.execute(run, lambda: self._still_ours(dataset))
        if done is not None:
            self._count(*done)

    async def _republish(self, record: Document) -> None:
        result = TrainingCompleted.model_validate(record["event"])
        self._count(result, await self._runner.deliver(record["_id"], result))
        self.counts["republished"] += 1

    def _count(self, result: TrainingCompleted, served: list[str]) -> None:
        self.counts["runs"] += 1
        self.counts[result.status] += 1
        self.counts["coalesced"] += max(0, len(served) - 1)

    async def _catch_up_on(self, dataset: str) -> tuple[int, DatasetSpec] | None:
        """Read the applied specs again: a request may name a dataset whose spec was applied
        after the live follower last delivered."""
        for event in await read_topic(self._settings, SPECS_TOPIC, SpecApplied):
            self._specs.apply(event)
        return self._specs.get(dataset)

    async def _drop(self, dataset: str) -> None:
        """Triggers of a dataset without a spec cannot be trained (nor a result published,
        which needs a spec version): they are marked served by no run, and logged."""
        now = self._clock()
        dropped = await self._triggers.serve(dataset, "no-spec", now, now)
        self.counts["dropped"] += len(dropped)
        logger.warning("no spec for dataset %r: dropped triggers %s", dataset, dropped)

    async def _still_ours(self, dataset: str) -> bool:
        return await self._leases.renew(dataset, self._me, self._clock())

    @asynccontextmanager
    async def _holding(self, dataset: str) -> AsyncIterator[None]:
        """Renew the lease of ``dataset`` every third of its life while the block runs, then
        give it up."""
        heartbeat = asyncio.create_task(self._renew(dataset))
        try:
            yield
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            await self._leases.release(dataset, self._me)

    async def _renew(self, dataset: str) -> None:
        while True:
            await asyncio.sleep(self._settings.lease_s / 3)
            try:
                if not await self._still_ours(dataset):
                    logger.warning("lost the lease of %s while training", dataset)
                    return
            except TRANSIENT_ERRORS:
                logger.warning("could not renew the lease of %s; trying again", dataset)
