"""The HTTP API: health, counters, and each dataset's monitor state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from driftloop_monitor.checkpoints import CheckpointStore
from driftloop_monitor.consumer import MonitorLoop

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz(request: Request) -> dict[str, str]:
    """Ok while the loop runs; 503 with the error once it has stopped on one."""
    task = getattr(request.app.state, "loop_task", None)
    if task is not None and task.done() and not task.cancelled() and task.exception():
        raise HTTPException(503, f"the monitor's loop stopped: {task.exception()!r}")
    return {"status": "ok"}


@router.get("/v1/stats", tags=["health"])
async def stats(request: Request) -> dict[str, Any]:
    """Since the first start (they are checkpointed): records consumed and dead-lettered per
    topic, events skipped per dataset and reason (no spec, no champion), each dataset's
    counters (joined, late and orphan labels, alarms, reports...); since this start: events
    published, checkpoints saved and the input positions."""
    loop: MonitorLoop = request.app.state.loop
    checkpoints: CheckpointStore = request.app.state.checkpoints
    skipped: dict[str, dict[str, int]] = {}
    for (dataset, reason), count in sorted(loop.monitors.skipped.items()):
        skipped.setdefault(dataset, {})[reason] = count
    return {
        "consumed": dict(loop.consumed),
        "dead_lettered": dict(loop.dead_lettered),
        "skipped": skipped,
        "datasets": {
            dataset: monitor.counters()
            for dataset in loop.monitors.datasets()
            if (monitor := loop.monitors.get(dataset)) is not None
        },
        "published": dict(loop.published),
        "checkpoints": {
            "saved": checkpoints.saved,
            "last_saved_at": checkpoints.last_saved_at,
            "last_bytes": checkpoints.last_bytes,
        },
        "positions": {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(loop.positions.items())},
    }


@router.get("/v1/monitors/{dataset}", tags=["monitors"])
async def monitor_status(dataset: str, request: Request) -> dict[str, Any]:
    """``dataset``'s monitor: champion and shadow, each detector's last statistic, samples and
    cooldown, pending alarms, rolling metrics, counters. 404 while it has none."""
    loop: MonitorLoop = request.app.state.loop
    monitor = loop.monitors.get(dataset)
    if monitor is None:
        known = ", ".join(loop.monitors.datasets()) or "none"
        raise HTTPException(
            404,
            f"no monitor for dataset {dataset!r}: a dataset is monitored once it has a spec "
            f"and a champion and its first event was read (monitored: {known})",
        )
    status: dict[str, Any] = monitor.status()
    return {"dataset": dataset, **status, "counters": monitor.counters()}
