"""A monitor killed mid-stream resumes from its checkpoint: the same counters, alarms and
reports as a run that was never interrupted, each alarm and report under one id. SIGTERM
writes the last checkpoint and exits 0."""

from __future__ import annotations

import os
import signal
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from driftloop_cli.local import processes
from driftloop_cli.local.processes import stop
from driftloop_contracts import DRIFT_TOPIC, PERFORMANCE_TOPIC, DriftDetected, PerformanceReported
from tests.integration.conftest import RunningService
from tests.integration.feature.stream import fraud_spec
from tests.integration.kafka_helpers import unique
from tests.integration.monitor.conftest import monitor_env, start_monitor
from tests.integration.monitor.stream import (
    Stream,
    apply_spec,
    publish_lifecycle,
    publish_stream,
)
from tests.integration.scorer.helpers import get_json, read_until

pytestmark = pytest.mark.integration

COUNT, CHANGE_AT = 2400, 1200


async def counters_when_done(monitor: RunningService, dataset: str) -> dict[str, Any]:
    """The dataset's counters once every label of the stream is joined."""
    stats = await get_json(
        monitor,
        "/v1/stats",
        lambda s: s["datasets"].get(dataset, {}).get("joined") == COUNT,
        timeout_s=120,
    )
    counters: dict[str, Any] = stats["datasets"][dataset]
    return counters


def terminate(pid: int) -> int:
    """SIGTERM ``pid`` (a child of this process) and return its exit code."""
    os.kill(pid, signal.SIGTERM)
    child = processes._children.pop(pid)  # the Popen spawn kept, to read the exit code
    return child.wait(timeout=60)


async def test_a_killed_monitor_resumes_without_losing_or_recounting_an_event(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    spec, applied = fraud_spec(unique("cards"), min_post_change_labels=200)
    await apply_spec(bootstrap, applied)
    stream = Stream(spec, COUNT, CHANGE_AT)
    await publish_lifecycle(bootstrap, stream, 1, stream.when(0))
    vectors, predictions, outcomes = stream.events()
    half = COUNT // 2

    # 1. killed mid-stream, the stream goes on while it is down, then started again
    env = monitor_env(infra, tmp_path)
    await publish_stream(bootstrap, vectors[:half], predictions[:half], outcomes[:half])
    pid, killed = start_monitor(env, tmp_path / "killed.log")
    try:
        await get_json(
            killed, "/v1/stats", lambda s: s["datasets"].get(spec.name, {}).get("joined", 0) >= 600
        )
        os.kill(pid, signal.SIGKILL)
        stop(pid)  # reaps it
        await publish_stream(bootstrap, vectors[half:], predictions[half:], outcomes[half:])
        pid, resumed = start_monitor(env, tmp_path / "resumed.log")
        after_kill = await counters_when_done(resumed, spec.name)
    finally:
        stop(pid)

    # 2. the same input, never interrupted; then stopped by SIGTERM and started again
    env = monitor_env(infra, tmp_path, checkpoint_interval_s="3600")
    pid, whole = start_monitor(env, tmp_path / "whole.log")
    try:
        uninterrupted = await counters_when_done(whole, spec.name)
        # uvicorn re-raises SIGTERM once its graceful shutdown (lifespan included) is done
        assert terminate(pid) in (0, -signal.SIGTERM)
        pid, again = start_monitor(env, tmp_path / "again.log")
        # its only checkpoint was SIGTERM's: read back, nothing read twice
        assert await counters_when_done(again, spec.name) == uninterrupted
    finally:
        stop(pid)

    assert after_kill == uninterrupted
    assert uninterrupted["alarms"] == 1
    needle = f'"dataset":"{spec.name}"'.encode()
    # both runs published the one alarm, under one id, with the same change point
    alarms = await read_until(bootstrap, DRIFT_TOPIC, DriftDetected, needle, lambda f: len(f) >= 2)
    assert len({a.event_id for a in alarms}) == 1
    assert len({a.change_point for a in alarms}) == 1
    reports = await read_until(
        bootstrap,
        PERFORMANCE_TOPIC,
        PerformanceReported,
        needle,
        lambda f: len(f) >= 2 * uninterrupted["reports"],
    )
    by_id: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        by_id[report.event_id].add(report.model_dump_json(exclude={"occurred_at"}))
    assert len(by_id) == uninterrupted["reports"]
    differing = {i: sorted(copies) for i, copies in by_id.items() if len(copies) > 1}
    assert not differing, f"reports repeated with other contents: {differing}"
