"""Fixtures of the trainer's integration tests: fresh databases, workers in the test process, and
trainer service processes."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_cli.local.processes import stop
from tests.integration.conftest import start_service
from tests.integration.kafka_helpers import unique
from tests.integration.trainer.harness import SIGNING_KEY, Trainer

Database = AsyncDatabase[dict[str, Any]]


class TrainerProcess:
    """A trainer service process on ``database``, in consumer groups of its own, with the test
    signing key, a 2-second lease and short polls."""

    def __init__(self, infra: dict[str, str], home: Path, database: str, name: str) -> None:
        self.env = {
            **os.environ,
            **infra,
            "DRIFTLOOP_MONGO_DATABASE": database,
            "DRIFTLOOP_CONSUMER_GROUP": unique(f"trainer-{name}"),
            "DRIFTLOOP_WORKER_ID": name,
            "DRIFTLOOP_ARTIFACT_SIGNING_KEY": SIGNING_KEY.decode(),
            "DRIFTLOOP_LEASE_S": "2",
            "DRIFTLOOP_POLL_INTERVAL_S": "0.3",
            "DRIFTLOOP_PLAN_INTERVAL_S": "0.5",
            "DRIFTLOOP_TRACES_FILE": str(home / f"{name}-traces.jsonl"),
        }
        self.traces = home / f"{name}-traces.jsonl"
        self.log = home / f"{name}.log"
        self.pid, self.port = start_service("driftloop_trainer", self.env, self.log)

    def get(self, path: str) -> Any:
        """The JSON answer of ``GET path``."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as answer:
            return json.load(answer)

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = self.get("/v1/stats")
        return counts

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        stop(self.pid)  # reaps it


@asynccontextmanager
async def fresh_database(infra: dict[str, str]) -> AsyncIterator[Database]:
    """A database of its own on the test store, dropped afterwards."""
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
async def database(infra: dict[str, str]) -> AsyncIterator[Database]:
    """A fresh database for one test."""
    async with fresh_database(infra) as fresh:
        yield fresh


@pytest.fixture
async def trainer(database: Database) -> Trainer:
    """Workers in this process on ``database``, with a fake clock and publisher."""
    return await Trainer(database).ready()


@pytest.fixture(scope="module")
async def trainer_database(infra: dict[str, str]) -> AsyncIterator[Database]:
    """The database of ``trainer_service``."""
    async with fresh_database(infra) as fresh:
        yield fresh


@pytest.fixture(scope="module")
def trainer_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory, trainer_database: Database
) -> Iterator[TrainerProcess]:
    """One trainer process on ``trainer_database`` for the tests of a module (each test works on
    datasets of its own)."""
    with _trainer(infra, tmp_path_factory, trainer_database, "trainer-a") as process:
        yield process


@pytest.fixture(scope="module")
def second_trainer(
    infra: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    trainer_database: Database,
    trainer_service: TrainerProcess,
) -> Iterator[TrainerProcess]:
    """Another replica beside ``trainer_service``, on the same database."""
    with _trainer(infra, tmp_path_factory, trainer_database, "trainer-b") as process:
        yield process


@contextmanager
def _trainer(
    infra: dict[str, str], factory: pytest.TempPathFactory, database: Database, name: str
) -> Iterator[TrainerProcess]:
    process = TrainerProcess(infra, factory.mktemp(name), database.name, name)
    try:
        yield process
    finally:
        stop(process.pid)  # a test may have killed it already
