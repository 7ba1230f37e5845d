"""The serving path as processes for the e2e tests: feature, trainer and scorer beside the
package's registry and ingestion, all on the registry's database (the offline store, the
artifacts and the registry's records in one place, as in production)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from driftloop_cli.local.processes import stop
from tests.integration.conftest import RunningService, start_service
from tests.integration.feature.stream import FRAUD
from tests.integration.kafka_helpers import unique
from tests.integration.registry.helpers import client as registry_client

__all__ = [
    "ServingPath",
    "apply_fraud_spec",
    "get_json",
    "running_serving_path",
    "start_serving_path",
    "wait_for",
]


@dataclass(frozen=True)
class ServingPath:
    """The processes of the serving path a test started, and the package's shared ones."""

    registry: RunningService
    ingestion: RunningService
    feature: RunningService
    trainer: RunningService
    scorer: RunningService
    pids: tuple[int, ...]
    monitor: RunningService | None = None


def start_serving_path(
    registry: RunningService,
    ingestion: RunningService,
    home: Path,
    trainer_env: dict[str, str],
    *,
    monitor: bool = False,
) -> ServingPath:
    """Start feature, trainer and scorer (and the monitor, with ``monitor``) side by side on
    the registry's database and signing key, with consumer groups of their own so they share no
    offsets (and the monitor no checkpoint) with other tests."""
    shared = {
        **os.environ,
        "DRIFTLOOP_KAFKA_BOOTSTRAP": registry.env["DRIFTLOOP_KAFKA_BOOTSTRAP"],
        "DRIFTLOOP_MONGO_URI": registry.env["DRIFTLOOP_MONGO_URI"],
        "DRIFTLOOP_MONGO_DATABASE": registry.env["DRIFTLOOP_MONGO_DATABASE"],
        "DRIFTLOOP_ARTIFACT_SIGNING_KEY": registry.env["DRIFTLOOP_ARTIFACT_SIGNING_KEY"],
    }
    extra = {"trainer": trainer_env}

    def start(name: str) -> tuple[int, RunningService]:
        env = {
            **shared,
            **extra.get(name, {}),
            "DRIFTLOOP_CONSUMER_GROUP": unique(name),
            "DRIFTLOOP_TRACES_FILE": str(home / f"{name}-traces.jsonl"),
        }
        log = home / f"{name}.log"
        pid, port = start_service(f"driftloop_{name}", env, log)
        return pid, RunningService(f"http://127.0.0.1:{port}", env, log)

    # Side by side: most of a start is waiting for consumer groups to form (~5 s per group on
    # the embedded broker), one group after the other within a service.
    names = ("feature", "trainer", "scorer", *(("monitor",) if monitor else ()))
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {name: pool.submit(start, name) for name in names}
    results = {name: f.result() for name, f in futures.items() if f.exception() is None}
    errors = [error for f in futures.values() if (error := f.exception()) is not None]
    if errors:
        for pid, _ in results.values():
            stop(pid)
        raise errors[0]
    started = {name: service for name, (_, service) in results.items()}
    pids = tuple(pid for pid, _ in results.values())
    return ServingPath(
        registry,
        ingestion,
        started["feature"],
        started["trainer"],
        started["scorer"],
        pids,
        started.get("monitor"),
    )


def running_serving_path(
    registry: RunningService, ingestion: RunningService, home: Path, *, monitor: bool = False
) -> Iterator[ServingPath]:
    """The serving path (``start_serving_path``, the trainer polling every second) for as long
    as a fixture yields it; its processes stopped after."""
    trainer_env = {"DRIFTLOOP_POLL_INTERVAL_S": "1"}
    path = start_serving_path(registry, ingestion, home, trainer_env, monitor=monitor)
    try:
        yield path
    finally:
        for pid in path.pids:
            stop(pid)


async def apply_fraud_spec(
    registry: RunningService,
    dataset: str,
    *,
    detectors: Sequence[str] | None = None,
    **training: Any,
) -> int:
    """Apply specs/fraud.yaml as ``dataset`` with ``training`` changes, keeping only the drift
    detectors of the ``detectors`` signals when given; return its version."""
    document = yaml.safe_load(FRAUD.read_text())
    document["name"] = dataset
    document["training"] |= training
    if detectors is not None:
        drift = document["drift"]
        drift["detectors"] = [d for d in drift["detectors"] if d["signal"] in detectors]
    async with registry_client(registry) as http:
        response = await http.post(
            "/v1/specs",
            content=yaml.safe_dump(document, sort_keys=False),
            headers={"Content-Type": "application/yaml"},
        )
    response.raise_for_status()
    version: int = response.json()["version"]
    return version


async def get_json(service: RunningService, path: str) -> Any:
    """GET ``path`` of a service (as the registry's approver where it is the registry)."""
    headers = (
        {"Authorization": f"Bearer {service.approver_token}"} if service.approver_token else {}
    )
    async with httpx.AsyncClient(base_url=service.url, timeout=30, headers=headers) as http:
        response = await http.get(path)
    response.raise_for_status()
    return response.json()


async def wait_for(
    what: str, probe: Callable[[], Any], *, timeout_s: float, every_s: float = 0.25
) -> Any:
    """Await ``probe()`` until it returns something truthy; return it, or fail saying ``what``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(every_s)
