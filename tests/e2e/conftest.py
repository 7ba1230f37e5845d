"""Fixtures of the e2e tier: the services as their own processes on the session's broker and store.

The registry and ingestion are the integration tier's fixtures (tests/integration/conftest.py),
the same code, but scoped to this package: pytest finalizes a session fixture only when the
session ends, so importing them as they are would leave a second ingestion process in the
consumer group ``ingestion`` while the integration tests (which run after tests/e2e) use theirs,
and each would see only its share of the partitions (and of the HTTP duplicates).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from driftloop_cli.local.processes import stop
from tests.integration import conftest as integration
from tests.integration.conftest import RunningService, start_service
from tests.integration.kafka_helpers import unique


@pytest.fixture(scope="package")
def registry_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The registry service (``tests.integration.conftest.registry_service``), for this package."""
    yield from inspect.unwrap(integration.registry_service)(infra, tmp_path_factory)


@pytest.fixture(scope="package")
def ingestion_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The ingestion service (``tests.integration.conftest.ingestion_service``), for this
    package: bearer token in ``env["DRIFTLOOP_INGESTION_TOKEN"]``, 4 KiB events, 50 per request."""
    yield from inspect.unwrap(integration.ingestion_service)(infra, tmp_path_factory)


@pytest.fixture
async def start_feature_service(
    infra: dict[str, str], tmp_path: Path
) -> AsyncIterator[Callable[[], asyncio.Task[RunningService]]]:
    """Starts a feature service in the background when called (after the test's spec is
    applied, so that it reads the spec before its first event); await the task for the running
    service. It has consumer groups and a database of its own (``env["DRIFTLOOP_MONGO_DATABASE"]``),
    so it shares no offsets or offline rows with other tests, and starts from the beginning of
    the topics. Stopped at the end of the test."""
    pids: list[int] = []
    starting: list[asyncio.Task[RunningService]] = []

    def run() -> RunningService:
        env = {
            **os.environ,
            **infra,
            "DRIFTLOOP_MONGO_DATABASE": f"feature_{secrets.token_hex(4)}",
            "DRIFTLOOP_CONSUMER_GROUP": unique("feature"),
            "DRIFTLOOP_TRACES_FILE": str(tmp_path / "feature-traces.jsonl"),
        }
        log = tmp_path / "feature.log"
        pid, port = start_service("driftloop_feature", env, log)
        pids.append(pid)
        return RunningService(f"http://127.0.0.1:{port}", env, log)

    def start() -> asyncio.Task[RunningService]:
        # Its three consumer groups join one after the other (~5 s each on the embedded broker):
        # the test goes on meanwhile.
        starting.append(asyncio.ensure_future(asyncio.to_thread(run)))
        return starting[-1]

    try:
        yield start
    finally:
        if starting:
            await asyncio.wait(starting)  # even when the test failed, so its process is known
        for pid in pids:
            stop(pid)
