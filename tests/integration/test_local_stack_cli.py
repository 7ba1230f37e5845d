"""`driftloop local up / status / down` and `driftloop topics create`, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftloop_cli.local import LocalStack
from driftloop_cli.local.infra import http_answers
from driftloop_cli.local.processes import is_alive
from driftloop_contracts import TOPICS
from tests.integration.kafka_helpers import list_topics

pytestmark = pytest.mark.integration


def driftloop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from driftloop_cli.main import app; app()", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


async def test_up_status_down_runs_and_stops_the_embedded_stack(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    up = driftloop("local", "up", "--infra-only", "--home", home)
    try:
        assert up.returncode == 0, up.stderr
        stack = LocalStack(Path(home))
        env = stack.env()
        assert env["DRIFTLOOP_KAFKA_BOOTSTRAP"].startswith("127.0.0.1:")
        assert env["DRIFTLOOP_MONGO_URI"].startswith("mongodb://127.0.0.1:")
        assert {t.name for t in TOPICS} <= set(await list_topics(env["DRIFTLOOP_KAFKA_BOOTSTRAP"]))

        status = driftloop("local", "status", "--home", home)
        assert status.returncode == 0
        assert [line.split()[0] for line in status.stdout.splitlines()] == ["broker", "store"]
        assert status.stdout.count("alive") == 2

        again = driftloop("local", "up", "--home", home)
        assert again.returncode == 1
        assert "already running" in again.stderr

        topics = driftloop("topics", "create", env=env)
        assert topics.returncode == 0, topics.stderr
        assert topics.stdout.count(" exists") == len(TOPICS)
    finally:
        pids = [p.pid for p in LocalStack(Path(home)).processes()]
        down = driftloop("local", "down", "--home", home)
    assert down.returncode == 0
    assert down.stdout.count("stopped") == 2
    assert not any(is_alive(pid) for pid in pids)
    assert driftloop("local", "status", "--home", home).returncode == 1


async def test_up_starts_the_six_services_with_the_monitor_answering(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    up = driftloop("local", "up", "--home", home)
    try:
        assert up.returncode == 0, up.stderr
        status = driftloop("local", "status", "--home", home)
        names = [line.split()[0] for line in status.stdout.splitlines()]
        assert names == [
            "broker",
            "store",
            "feature",
            "ingestion",
            "monitor",
            "registry",
            "scorer",
            "trainer",
        ]
        assert status.stdout.count("alive") == len(names)
        monitor = LocalStack(Path(home)).env()["DRIFTLOOP_MONITOR_URL"]
        assert http_answers(f"{monitor}/v1/stats")
    finally:
        pids = [p.pid for p in LocalStack(Path(home)).processes()]
        down = driftloop("local", "down", "--home", home)
    assert down.returncode == 0
    assert not any(is_alive(pid) for pid in pids)
