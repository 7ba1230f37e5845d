"""MongoDB through PyMongo's ``AsyncMongoClient``, the successor of the deprecated motor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_runtime.settings import RuntimeSettings

__all__ = ["Document", "IndexPlan", "create_mongo_client", "ensure_indexes", "open_database"]

Document = dict[str, Any]
IndexPlan = Mapping[str, Sequence[IndexModel]]
"""The indexes each collection needs, by collection name."""


def create_mongo_client(
    settings: RuntimeSettings, *, appname: str, retry_writes: bool = True
) -> AsyncMongoClient[Document]:
    """A client for ``DRIFTLOOP_MONGO_URI`` that returns timezone-aware datetimes (in UTC).

    ``retry_writes=False`` is for writers whose every write is idempotent and whose failed
    batch is delivered again anyway: a retryable write costs the server a record of it
    (the embedded document store walks all of them on every write).
    """
    return AsyncMongoClient(
        settings.mongo_uri.get_secret_value(),
        appname=appname,
        tz_aware=True,
        serverSelectionTimeoutMS=10_000,
        retryWrites=retry_writes,
    )


async def ensure_indexes(database: AsyncDatabase[Document], plan: IndexPlan) -> None:
    """Create every index of ``plan``; existing identical indexes are left as they are."""
    for collection, indexes in plan.items():
        if indexes:
            await database[collection].create_indexes(list(indexes))


async def open_database(
    client: AsyncMongoClient[Document], settings: RuntimeSettings, plan: IndexPlan
) -> AsyncDatabase[Document]:
    """The configured database, checked reachable, with the indexes of ``plan`` in place."""
    await client.admin.command("ping")
    database = client[settings.mongo_database]
    await ensure_indexes(database, plan)
    return database
