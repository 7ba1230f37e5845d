"""The trainer's records in MongoDB: triggers waiting for a run, and the runs themselves.

``trainer_triggers`` holds every reason to train (one document per event id, so a redelivered
event is recorded once) until a run serves it. ``trainer_runs`` holds each run from its start:
who ran it, what served it, its outcome and the ``training completed`` event it publishes.
That event is stored before it is published (an outbox): a trainer that dies between the two
leaves the run unpublished, and the next holder of the dataset's lease publishes the stored
event instead of training again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from driftloop_runtime.mongo import Document, IndexPlan
from driftloop_trainer.lease import COLLECTION as LEASES
from driftloop_trainer.policy import RunHistory
from driftloop_trainer.triggers import Trigger

__all__ = ["INDEXES", "RunStore", "TriggerStore"]

DUPLICATE_KEY = 11000
TRIGGERS, RUNS = "trainer_triggers", "trainer_runs"
FINISHED = ["succeeded", "failed"]

INDEXES: IndexPlan = {
    TRIGGERS: [
        IndexModel(
            [("status", ASCENDING), ("dataset", ASCENDING), ("received_at", ASCENDING)],
            name="status_dataset_received",
        )
    ],
    RUNS: [
        IndexModel([("dataset", ASCENDING), ("number", ASCENDING)], unique=True, name="number"),
        IndexModel([("dataset", ASCENDING), ("status", ASCENDING)], name="dataset_status"),
        IndexModel([("started_at", DESCENDING)], name="started_at"),
    ],
    LEASES: [],
}


class TriggerStore:
    """Triggers by event id, pending until a run serves them."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        """Keep triggers in ``database``."""
        self._triggers = database[TRIGGERS]

    async def record(self, triggers: Sequence[Trigger], now: datetime) -> int:
        """Record each trigger once (a known event id is skipped); return how many were new."""
        if not triggers:
            return 0
        try:
            result = await self._triggers.insert_many(
                [t.document(now) for t in triggers], ordered=False
            )
        except BulkWriteError as error:
            if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
            return int(error.details["nInserted"])
        return len(result.inserted_ids)

    async def pending_datasets(self) -> list[str]:
        """The datasets with triggers waiting, in name order."""
        return sorted(await self._triggers.distinct("dataset", {"status": "pending"}))

    async def pending(self, dataset: str) -> list[Trigger]:
        """The triggers of ``dataset`` waiting for a run, in the order they came."""
        cursor = self._triggers.find({"status": "pending", "dataset": dataset})
        return [Trigger.from_document(d) for d in await cursor.sort("received_at").to_list()]

    async def serve(self, dataset: str, run_id: str, until: datetime, now: datetime) -> list[str]:
        """Mark the triggers of ``dataset`` recorded up to ``until`` served by ``run_id``; return
        their ids. Triggers recorded later wait for the next run."""
        waiting = {"status": "pending", "dataset": dataset, "received_at": {"$lte": until}}
        ids = [d["_id"] for d in await self._triggers.find(waiting, {"_id": True}).to_list()]
        if ids:
            await self._triggers.update_many(
                {"_id": {"$in": ids}, "status": "pending"},
                {"$set": {"status": "served", "run_id": run_id, "served_at": now}},
            )
        return ids


class RunStore:
    """Training runs by run id, numbered per dataset."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        """Keep runs in ``database``."""
        self._runs = database[RUNS]

    async def next_number(self, dataset: str) -> int:
        """The number of ``dataset``'s next run (its lease holder asks; the unique index on
        dataset and number refuses a second run with the same number)."""
        last = await self._runs.find_one({"dataset": dataset}, sort=[("number", DESCENDING)])
        return 1 if last is None else int(last["number"]) + 1

    async def start(self, record: Document) -> None:
        """Record a run that starts."""
        await self._runs.insert_one(record)

    async def finish(self, run_id: str, fields: Document) -> None:
        """Record how a run ended (its status, outcome and the event to publish)."""
        await self._runs.update_one({"_id": run_id}, {"$set": fields})

    async def mark_published(self, run_id: str, served: list[str], now: datetime) -> None:
        """Record that a run's event was published and which triggers it served."""
        await self._runs.update_one(
            {"_id": run_id},
            {"$set": {"published": True, "published_at": now, "served_triggers": served}},
        )

    async def abandon_running(self, dataset: str, now: datetime) -> int:
        """Mark runs of ``dataset`` that never finished (their trainer died or lost the lease)
        as abandoned; their triggers are still pending. Returns how many."""
        result = await self._runs.update_many(
            {"dataset": dataset, "status": "running"},
            {"$set": {"status": "abandoned", "finished_at": now}},
        )
        return result.modified_count

    async def unpublished(self, dataset: str) -> list[Document]:
        """Finished runs of ``dataset`` whose event is not published yet, oldest first."""
        cursor = self._runs.find(
            {"dataset": dataset, "status": {"$in": FINISHED}, "published": False}
        )
        return await cursor.sort("number").to_list()

    async def history(self, dataset: str) -> RunHistory:
        """What ``dataset``'s past runs say about its next one."""
        latest = await self._runs.find_one({"dataset": dataset}, sort=[("number", DESCENDING)])
        finished = await self._runs.find_one(
            {"dataset": dataset, "status": {"$in": FINISHED}}, sort=[("finished_at", DESCENDING)]
        )
        succeeded = await self._runs.find_one({"dataset": dataset, "status": "succeeded"})
        return RunHistory(
            runs=int(latest["number"]) if latest else 0,
            last_started=latest["started_at"] if latest else None,
            last_finished=finished["finished_at"] if finished else None,
            succeeded=succeeded is not None,
        )

    async def recent(self, dataset: str | None, limit: int) -> list[Document]:
        """The latest runs (of ``dataset``, or of all), newest first, without their events."""
        query: dict[str, Any] = {} if dataset is None else {"dataset": dataset}
        cursor = self._runs.find(query, {"event": False}).sort("started_at", DESCENDING)
        return await cursor.limit(limit).to_list()
