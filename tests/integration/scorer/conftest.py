"""The scorer as a process of its own, on its own database, signing key and consumer group."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from driftloop_cli.local.processes import stop
from tests.integration.conftest import RunningService, start_service
from tests.integration.kafka_helpers import unique


@pytest.fixture(scope="session")
def scorer_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """One scorer for the package's tests (each test uses datasets of its own); it warms a
    model up on 8 rows and logs unscored vectors every second."""
    home = tmp_path_factory.mktemp("scorer")
    env = {
        **os.environ,
        **infra,
        "DRIFTLOOP_MONGO_DATABASE": f"scorer_{secrets.token_hex(4)}",
        "DRIFTLOOP_ARTIFACT_SIGNING_KEY": secrets.token_urlsafe(32),
        "DRIFTLOOP_CONSUMER_GROUP": unique("scorer"),
        "DRIFTLOOP_WARMUP_ROWS": "8",
        "DRIFTLOOP_NO_MODEL_LOG_S": "1",
        "DRIFTLOOP_TRACES_FILE": str(home / "traces.jsonl"),
    }
    log = home / "scorer.log"
    pid, port = start_service("driftloop_scorer", env, log)
    try:
        yield RunningService(f"http://127.0.0.1:{port}", env, log)
    finally:
        stop(pid)
