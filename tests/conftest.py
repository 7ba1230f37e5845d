"""Shared fixtures: the embedded broker and document store, started once per test session."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from driftloop_cli.local import LocalStack
from driftloop_cli.topics import create_topics
from driftloop_runtime import RuntimeSettings


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``DRIFTLOOP_KAFKA_BOOTSTRAP`` and ``DRIFTLOOP_MONGO_URI`` of a running broker and store.

    With both variables set, the tests use those (real Apache Kafka and MongoDB, topics
    created from the registry if missing); otherwise the embedded stack is
    started by the same code as ``driftloop local up --infra-only`` and stopped afterwards.
    """
    given = {
        name: os.environ.get(name, "")
        for name in ("DRIFTLOOP_KAFKA_BOOTSTRAP", "DRIFTLOOP_MONGO_URI")
    }
    if all(given.values()):
        asyncio.run(
            create_topics(RuntimeSettings(kafka_bootstrap=given["DRIFTLOOP_KAFKA_BOOTSTRAP"]))
        )
        yield given
        return
    stack = LocalStack(tmp_path_factory.mktemp("driftloop"))
    env = stack.up(infra_only=True)
    try:
        yield env
    finally:
        stack.down()
