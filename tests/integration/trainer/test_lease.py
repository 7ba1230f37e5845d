"""The dataset lease on the real document store: one holder at a time, expiring when not
renewed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_trainer.lease import LeaseStore
from tests.integration.trainer.data import T0

pytestmark = pytest.mark.integration

TTL = timedelta(seconds=30)


async def test_one_holder_at_a_time_until_the_lease_expires(
    database: AsyncDatabase[dict[str, Any]],
) -> None:
    leases = LeaseStore(database, ttl=TTL)
    assert await leases.acquire("cards", "a", T0)
    assert not await leases.acquire("cards", "b", T0 + timedelta(seconds=29))
    assert await leases.acquire("cards", "a", T0 + timedelta(seconds=10))  # the holder again
    assert await leases.acquire("other", "b", T0)  # another dataset is free
    assert await leases.acquire("cards", "b", T0 + timedelta(seconds=40))  # a's has expired
    assert not await leases.renew("cards", "a", T0 + timedelta(seconds=41))
    assert await leases.renew("cards", "b", T0 + timedelta(seconds=41))


async def test_renewing_keeps_the_lease_and_releasing_frees_it(
    database: AsyncDatabase[dict[str, Any]],
) -> None:
    leases = LeaseStore(database, ttl=TTL)
    assert await leases.acquire("cards", "a", T0)
    assert await leases.renew("cards", "a", T0 + timedelta(seconds=25))
    assert not await leases.acquire("cards", "b", T0 + timedelta(seconds=40))  # renewed to 55 s
    await leases.release("cards", "b")  # not b's to give up
    assert not await leases.acquire("cards", "b", T0 + timedelta(seconds=41))
    await leases.release("cards", "a")
    assert await leases.acquire("cards", "b", T0 + timedelta(seconds=41))


async def test_of_many_replicas_racing_for_a_free_lease_exactly_one_wins(
    database: AsyncDatabase[dict[str, Any]],
) -> None:
    leases = LeaseStore(database, ttl=TTL)
    won = await asyncio.gather(*(leases.acquire("cards", f"w{n}", T0) for n in range(8)))
    assert sum(won) == 1
