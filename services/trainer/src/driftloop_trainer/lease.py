"""Single flight per dataset: a lease in MongoDB (collection ``trainer_leases``).

One document per dataset holds who trains it and until when. Taking the lease is one atomic
``find_one_and_update`` that matches only a free lease (expired, or already ours); on a lease
held by someone else the upsert collides with the existing document's ``_id`` and fails, so of
two replicas racing for a dataset exactly one wins. The holder renews the lease while it
trains; a holder that crashed stops renewing, and its lease is free once ``expires_at`` passes.
Replicas compare ``expires_at`` with their own clocks: keep the lease far longer than the
clocks' skew.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from driftloop_runtime.mongo import Document

__all__ = ["COLLECTION", "LeaseStore"]

COLLECTION = "trainer_leases"


class LeaseStore:
    """Leases on datasets, held by worker id for a time-to-live."""

    def __init__(self, database: AsyncDatabase[Document], *, ttl: timedelta) -> None:
        """Keep leases in ``database``; each grant and renewal lasts ``ttl``."""
        self._leases = database[COLLECTION]
        self._ttl = ttl

    async def acquire(self, dataset: str, holder: str, now: datetime) -> bool:
        """Take the lease of ``dataset`` for ``holder`` if it is free (or already ``holder``'s);
        return whether ``holder`` holds it now."""
        try:
            await self._leases.find_one_and_update(
                {"_id": dataset, "$or": [{"expires_at": {"$lte": now}}, {"holder": holder}]},
                {"$set": {"holder": holder, "expires_at": now + self._ttl, "acquired_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def renew(self, dataset: str, holder: str, now: datetime) -> bool:
        """Extend ``holder``'s lease of ``dataset``; ``False`` if it is no longer theirs."""
        result = await self._leases.update_one(
            {"_id": dataset, "holder": holder}, {"$set": {"expires_at": now + self._ttl}}
        )
        return result.matched_count == 1

    async def release(self, dataset: str, holder: str) -> None:
        """Give the lease of ``dataset`` up, if ``holder`` still holds it."""
        await self._leases.delete_one({"_id": dataset, "holder": holder})
