"""Fixtures of the integration tier: driftloop services running as their own processes."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from driftloop_cli.local.infra import http_answers
from driftloop_cli.local.processes import free_port, is_alive, spawn, stop, wait_until


@dataclass(frozen=True)
class RunningService:
    """A service process started for the tests: where it answers and the settings it got."""

    url: str
    env: dict[str, str]
    log: Path
    approver_token: str = ""
    viewer_token: str = ""

    def settings(self) -> dict[str, str]:
        """The ``DRIFTLOOP_*`` settings a client (CLI, test) uses to reach it."""
        return {"DRIFTLOOP_REGISTRY_URL": self.url, "DRIFTLOOP_TOKEN": self.approver_token}


def start_service(module: str, env: dict[str, str], log: Path) -> tuple[int, int]:
    """Start ``python -m module`` with ``env`` on a free port; wait for its /healthz."""
    port = free_port()
    process = spawn(
        [sys.executable, "-m", module], log=log, env={**env, "DRIFTLOOP_HTTP_PORT": str(port)}
    )
    url = f"http://127.0.0.1:{port}/healthz"
    if not wait_until(
        lambda: http_answers(url) or not is_alive(process.pid), timeout_s=60
    ) or not is_alive(process.pid):
        stop(process.pid)
        pytest.fail(f"{module} did not come up:\n{log.read_text()[-3000:]}")
    return process.pid, port


@pytest.fixture(scope="session")
def registry_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The registry service, on its own database, with an approver and a viewer token."""
    home = tmp_path_factory.mktemp("registry")
    approver, viewer = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    tokens = {
        "alice": {"token": approver, "role": "approver"},
        "victor": {"token": viewer, "role": "viewer"},
    }
    env = {
        **os.environ,
        **infra,
        "DRIFTLOOP_MONGO_DATABASE": f"registry_{secrets.token_hex(4)}",
        "DRIFTLOOP_REGISTRY_TOKENS": json.dumps(tokens),
        "DRIFTLOOP_ARTIFACT_SIGNING_KEY": secrets.token_urlsafe(32),
        "DRIFTLOOP_TRACES_FILE": str(home / "traces.jsonl"),
    }
    log = home / "registry.log"
    pid, port = start_service("driftloop_registry", env, log)
    try:
        yield RunningService(f"http://127.0.0.1:{port}", env, log, approver, viewer)
    finally:
        stop(pid)


@pytest.fixture(scope="session")
def ingestion_service(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The ingestion service on the same broker and store, its HTTP API behind a bearer token
    (``env["DRIFTLOOP_INGESTION_TOKEN"]``), events limited to 4 KiB and requests to 50 events."""
    home = tmp_path_factory.mktemp("ingestion")
    env = {
        **os.environ,
        **infra,
        "DRIFTLOOP_INGESTION_TOKEN": secrets.token_urlsafe(24),
        "DRIFTLOOP_INGESTION_MAX_EVENT_BYTES": "4096",
        "DRIFTLOOP_INGESTION_HTTP_MAX_BATCH": "50",
        "DRIFTLOOP_TRACES_FILE": str(home / "traces.jsonl"),
    }
    log = home / "ingestion.log"
    pid, port = start_service("driftloop_ingestion", env, log)
    try:
        yield RunningService(f"http://127.0.0.1:{port}", env, log)
    finally:
        stop(pid)
