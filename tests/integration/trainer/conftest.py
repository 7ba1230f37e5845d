"""Fixtures of the trainer's integration tests: a fresh database, a trainer in the test process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.kafka_helpers import unique
from tests.integration.trainer.harness import Trainer


@pytest.fixture
async def database(infra: dict[str, str]) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A fresh database on the test store, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra["DRIFTLOOP_MONGO_URI"], tz_aware=True
    )
    name = unique("trainer").replace("-", "_")
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
async def trainer(database: AsyncDatabase[dict[str, Any]]) -> Trainer:
    """Workers in this process on ``database``, with a fake clock and publisher."""
    return await Trainer(database).ready()
