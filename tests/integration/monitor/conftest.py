"""The monitor as a process of its own, on its own database (so its own checkpoint)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tests.integration.conftest import RunningService, start_service


def monitor_env(infra: dict[str, str], home: Path, **settings: str) -> dict[str, str]:
    """Settings of a monitor with a database of its own, reporting every 30 minutes of event
    time and checkpointing every half second; ``settings`` add ``DRIFTLOOP_*`` values."""
    return {
        **os.environ,
        **infra,
        "DRIFTLOOP_MONGO_DATABASE": f"monitor_{secrets.token_hex(4)}",
        "DRIFTLOOP_REPORT_EVERY_S": "1800",
        "DRIFTLOOP_CHECKPOINT_INTERVAL_S": "0.5",
        "DRIFTLOOP_TRACES_FILE": str(home / "traces.jsonl"),
        **{f"DRIFTLOOP_{name.upper()}": value for name, value in settings.items()},
    }


def start_monitor(env: dict[str, str], log: Path) -> tuple[int, RunningService]:
    """``python -m driftloop_monitor`` with ``env``; its pid and where it answers."""
    pid, port = start_service("driftloop_monitor", env, log)
    return pid, RunningService(f"http://127.0.0.1:{port}", env, log)
