"""The registry's MongoDB store: one verb per operation, unique indexes for idempotent writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from driftloop_runtime.mongo import Document, IndexPlan

__all__ = ["INDEXES", "AliasConflictError", "RegistryStore"]


def _unique(*keys: str, name: str) -> IndexModel:
    return IndexModel([(key, ASCENDING) for key in keys], unique=True, name=name)


INDEXES: IndexPlan = {
    "specs": [_unique("name", "version", name="name_version")],
    "models": [_unique("name", name="name")],
    "model_versions": [
        _unique("name", "version", name="name_version"),
        _unique("name", "run_id", name="name_run"),  # a repeated training result: one version
    ],
    "runs": [_unique("run_id", name="run_id"), IndexModel([("dataset", ASCENDING)])],
    "lineage": [_unique("name", "version", name="name_version")],
    "aliases": [_unique("name", "alias", name="name_alias")],
    "alias_history": [
        _unique("name", "alias", "revision", name="name_alias_revision"),
        IndexModel([("name", ASCENDING), ("alias", ASCENDING), ("at", DESCENDING)]),
    ],
    "shadow_reports": [
        _unique("report_event_id", name="report"),  # a redelivered report counts once
        IndexModel([("name", ASCENDING), ("version", ASCENDING)]),
    ],
    "audit": [
        IndexModel([("target", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("at", DESCENDING)]),
    ],
}
"""Every collection of the registry and its indexes."""

_NO_ID = {"_id": False}


class AliasConflictError(Exception):
    """Another promotion moved the alias first (optimistic concurrency on its revision)."""


class RegistryStore:
    """Reads and writes of the registry's collections; knows MongoDB, not the policy."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        """Use ``database`` (opened with ``INDEXES`` in place)."""
        self._db = database

    # specs

    async def latest_spec(self, name: str) -> Document | None:
        """The newest version of dataset ``name``'s spec."""
        return await self._db.specs.find_one({"name": name}, _NO_ID, sort=[("version", -1)])

    async def spec(self, name: str, version: int) -> Document | None:
        """Version ``version`` of dataset ``name``'s spec."""
        return await self._db.specs.find_one({"name": name, "version": version}, _NO_ID)

    async def spec_versions(self, name: str) -> list[Document]:
        """Every version of a dataset's spec, oldest first, without the documents."""
        cursor = self._db.specs.find(
            {"name": name}, {**_NO_ID, "document": False}, sort=[("version", 1)]
        )
        return await cursor.to_list()

    async def datasets(self) -> list[Document]:
        """Each dataset with its newest spec version and digest."""
        pipeline: list[Mapping[str, Any]] = [
            {"$sort": {"name": 1, "version": -1}},
            {
                "$group": {
                    "_id": "$name",
                    "version": {"$first": "$version"},
                    "digest": {"$first": "$digest"},
                    "applied_at": {"$first": "$applied_at"},
                }
            },
            {
                "$project": {
                    "_id": False,
                    "name": "$_id",
                    "version": True,
                    "digest": True,
                    "applied_at": True,
                }
            },
            {"$sort": {"name": 1}},
        ]
        return await (await self._db.specs.aggregate(pipeline)).to_list()

    async def insert_spec(self, record: Document) -> bool:
        """Insert a spec version; ``False`` if that (name, version) exists already."""
        return await self._insert("specs", record)

    # models, versions, runs, lineage

    async def ensure_model(self, name: str, dataset: str, at: datetime) -> None:
        """Create registered model ``name`` unless it exists."""
        await self._db.models.update_one(
            {"name": name},
            {"$setOnInsert": {"name": name, "dataset": dataset, "created_at": at}},
            upsert=True,
        )

    async def models(self) -> list[Document]:
        """Every registered model."""
        return await self._db.models.find({}, _NO_ID, sort=[("name", 1)]).to_list()

    async def model(self, name: str) -> Document | None:
        """Registered model ``name``."""
        return await self._db.models.find_one({"name": name}, _NO_ID)

    async def version_of_run(self, name: str, run_id: str) -> Document | None:
        """The version registered from training run ``run_id``, if any."""
        return await self._db.model_versions.find_one({"name": name, "run_id": run_id}, _NO_ID)

    async def version(self, name: str, version: int) -> Document | None:
        """Version ``version`` of model ``name``."""
        return await self._db.model_versions.find_one({"name": name, "version": version}, _NO_ID)

    async def versions(self, name: str) -> list[Document]:
        """Every version of model ``name``, oldest first."""
        return await self._db.model_versions.find(
            {"name": name}, _NO_ID, sort=[("version", 1)]
        ).to_list()

    async def insert_version(self, record: Document) -> bool:
        """Insert a model version; ``False`` when its (name, version) or (name, run) exists."""
        return await self._insert("model_versions", record)

    async def next_version(self, name: str) -> int:
        """One more than the newest version of model ``name`` (1 for the first)."""
        newest = await self._db.model_versions.find_one(
            {"name": name}, {"version": True}, sort=[("version", -1)]
        )
        return int(newest["version"]) + 1 if newest else 1

    async def set_stage(
        self, name: str, version: int, stage: str, session: AsyncClientSession | None = None
    ) -> None:
        """Set the stage (candidate, shadow, champion, archived) a version is in."""
        await self._db.model_versions.update_one(
            {"name": name, "version": version}, {"$set": {"stage": stage}}, session=session
        )

    async def mark_decision_applied(self, name: str, version: int) -> None:
        """Note that the promotion decision of a version has been carried out."""
        await self._db.model_versions.update_one(
            {"name": name, "version": version}, {"$set": {"decision_applied": True}}
        )

    async def upsert_run(self, record: Document) -> None:
        """Record training run ``record["run_id"]`` (the same run again changes nothing)."""
        await self._db.runs.update_one(
            {"run_id": record["run_id"]}, {"$setOnInsert": record}, upsert=True
        )

    async def runs(self, dataset: str | None = None) -> list[Document]:
        """Training runs, newest first, optionally of one dataset."""
        query = {"dataset": dataset} if dataset else {}
        return await self._db.runs.find(query, _NO_ID, sort=[("recorded_at", -1)]).to_list()

    async def run(self, run_id: str) -> Document | None:
        """Training run ``run_id``."""
        return await self._db.runs.find_one({"run_id": run_id}, _NO_ID)

    async def insert_lineage(self, record: Document) -> None:
        """Record a version's lineage (once)."""
        await self._insert("lineage", record)

    async def lineage(self, name: str, version: int) -> Document | None:
        """The lineage of version ``version`` of model ``name``."""
        return await self._db.lineage.find_one({"name": name, "version": version}, _NO_ID)

    # aliases

    async def alias(self, name: str, alias: str) -> Document | None:
        """Alias ``alias`` of model ``name``: the version it points at (``None`` once retired)
        and its revision; ``None`` if it never pointed anywhere."""
        return await self._db.aliases.find_one({"name": name, "alias": alias}, _NO_ID)

    async def aliases(self, name: str) -> list[Document]:
        """The aliases of model ``name`` that point at a version now."""
        query = {"name": name, "version": {"$ne": None}}
        return await self._db.aliases.find(query, _NO_ID).to_list()

    async def model_of_dataset(self, dataset: str) -> Document | None:
        """The registered model that serves ``dataset``."""
        return await self._db.models.find_one({"dataset": dataset}, _NO_ID)

    async def record_shadow_report(self, report: Document) -> bool:
        """Keep a shadow model's live results from one performance report (once per report)."""
        return await self._insert("shadow_reports", report)

    async def shadow_events(self, name: str, version: int) -> int:
        """How many events version ``version`` of model ``name`` has scored in shadow."""
        pipeline: list[Mapping[str, Any]] = [
            {"$match": {"name": name, "version": version}},
            {"$group": {"_id": None, "events": {"$sum": "$events"}}},
        ]
        totals = await (await self._db.shadow_reports.aggregate(pipeline)).to_list()
        return int(totals[0]["events"]) if totals else 0

    async def move_alias(
        self, move: Document, *, expected_revision: int, session: AsyncClientSession
    ) -> None:
        """Point ``move["alias"]`` at ``move["version"]`` (at nothing, for a ``retire`` move) if
        its revision is still ``expected_revision`` (0 when it never pointed anywhere), and
        append ``move`` to the alias history. Raises ``AliasConflictError`` if another move came
        first."""
        key = {"name": move["name"], "alias": move["alias"]}
        conflict = f"{move['alias']} of {move['name']} moved meanwhile"
        target = None if move["kind"] == "retire" else move["version"]
        pointer = {"version": target, "updated_at": move["at"]}
        try:
            if expected_revision == 0:
                await self._db.aliases.insert_one(
                    {**key, **pointer, "revision": 1}, session=session
                )
            else:
                moved = await self._db.aliases.find_one_and_update(
                    {**key, "revision": expected_revision},
                    {"$set": pointer, "$inc": {"revision": 1}},
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
                if moved is None:
                    raise AliasConflictError(conflict)
            await self._db.alias_history.insert_one(
                {**move, "revision": expected_revision + 1}, session=session
            )
        except DuplicateKeyError as error:
            raise AliasConflictError(conflict) from error
        except OperationFailure as error:
            # inside a transaction, a concurrent move surfaces as a write conflict
            if error.has_error_label("TransientTransactionError"):
                raise AliasConflictError(conflict) from error
            raise

    async def alias_history(self, name: str, alias: str | None = None) -> list[Document]:
        """The alias moves of model ``name``, oldest first."""
        query: Document = {"name": name} | ({"alias": alias} if alias else {})
        return await self._db.alias_history.find(
            query, _NO_ID, sort=[("at", 1), ("revision", 1)]
        ).to_list()

    async def alias_at(self, name: str, alias: str, at: datetime) -> Document | None:
        """The history entry in force for ``alias`` at time ``at`` (``None`` before the first)."""
        return await self._db.alias_history.find_one(
            {"name": name, "alias": alias, "at": {"$lte": at}},
            _NO_ID,
            sort=[("at", -1), ("revision", -1)],
        )

    # audit

    async def append_audit(
        self, entry: Document, session: AsyncClientSession | None = None
    ) -> None:
        """Append an audit entry (who did what to which target, why, when)."""
        await self._db.audit.insert_one(dict(entry), session=session)

    async def audit(self, target: str | None = None, limit: int = 100) -> list[Document]:
        """Audit entries, newest first, optionally for one target (e.g. ``model:fraud``)."""
        query = {"target": target} if target else {}
        return await self._db.audit.find(query, _NO_ID, sort=[("at", -1)], limit=limit).to_list()

    async def _insert(self, collection: str, record: Document) -> bool:
        try:
            await self._db[collection].insert_one(dict(record))
        except DuplicateKeyError:
            return False
        return True

    def client_session(self) -> Any:
        """A session of the underlying client, for a transaction."""
        return self._db.client.start_session()
