"""The scorer as a process of its own, on its own database, signing key and consumer group."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftloop_cli.local.processes import stop
from tests.integration.conftest import RunningService, start_service
from tests.integration.kafka_helpers import unique


def scorer_env(infra: dict[str, str], home: Path) -> dict[str, str]:
    """Settings of a scorer with a database, key and group of its own; it warms a model up on 8
    rows and logs unscored vectors every second."""
    return {
        **os.environ,
        **infra,
        "DRIFTLOOP_MONGO_DATABASE": f"scorer_{secrets.token_hex(4)}",
        "DRIFTLOOP_ARTIFACT_SIGNING_KEY": secrets.token_urlsafe(32),
        "DRIFTLOOP_CONSUMER_GROUP": unique("scorer"),
        "DRIFTLOOP_WARMUP_ROWS": "8",
        "DRIFTLOOP_NO_MODEL_LOG_S": "1",
        "DRIFTLOOP_TRACES_FILE": str(home / "traces.jsonl"),
    }


def start_scorer(env: dict[str, str], log: Path) -> tuple[int, RunningService]:
    """``python -m driftloop_scorer`` with ``env``; its pid and where it answers."""
    pid, port = start_service("driftloop_scorer", env, log)
    return pid, RunningService(f"http://127.0.0.1:{port}", env, log)


@pytest.fixture(scope="session")
def scorer_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """One scorer for the package's tests (each test uses datasets of its own)."""
    home = tmp_path_factory.mktemp("scorer")
    pid, running = start_scorer(scorer_env(infra, home), home / "scorer.log")
    try:
        yield running
    finally:
        stop(pid)
