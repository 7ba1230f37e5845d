"""Driving the ingestion service in the integration tests: specs through the registry, events
onto the raw topics and the HTTP API, and reading what came out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import httpx
import yaml
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from typer.testing import CliRunner, Result

from driftloop_cli.main import app
from driftloop_contracts import Event
from tests.integration.conftest import RunningService
from tests.integration.kafka_helpers import produce
from tests.integration.registry.helpers import client as registry_client
from tests.unit.ingestion.helpers import spec_document

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


def unique_dataset(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def apply_spec(registry: RunningService, dataset: str, *, max_amount: float) -> int:
    """Apply the test spec (a field of every type) as ``dataset`` through the registry's API."""
    text = yaml.safe_dump(spec_document(dataset, max_amount=max_amount), sort_keys=False)
    async with registry_client(registry) as http:
        response = await http.post(
            "/v1/specs", content=text, headers={"Content-Type": "application/yaml"}
        )
    response.raise_for_status()
    version: int = response.json()["version"]
    return version


def ingestion_client(service: RunningService, token: str | None = None) -> httpx.AsyncClient:
    bearer = service.env["DRIFTLOOP_INGESTION_TOKEN"] if token is None else token
    return httpx.AsyncClient(
        base_url=service.url, timeout=30, headers={"Authorization": f"Bearer {bearer}"}
    )


async def stats(service: RunningService) -> dict[str, Any]:
    async with ingestion_client(service) as http:
        response = await http.get("/v1/stats")
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


async def wait_for_stats(
    service: RunningService, until: Callable[[dict[str, Any]], bool], timeout_s: float = 30
) -> dict[str, Any]:
    """Poll ``/v1/stats`` until ``until`` holds; return those stats."""
    for _ in range(int(timeout_s * 5)):
        current = await stats(service)
        if until(current):
            return current
        await asyncio.sleep(0.2)
    raise AssertionError(f"stats never matched; last: {current}")


async def wait_for_spec(service: RunningService, dataset: str, version: int) -> None:
    """Wait until ingestion checks ``dataset`` against ``version`` (spec applied is live)."""
    await wait_for_stats(service, lambda s: s["specs"].get(dataset) == version)


async def post(service: RunningService, path: str, body: Any) -> httpx.Response:
    async with ingestion_client(service) as http:
        return await http.post(path, json=body)


async def publish_events(
    bootstrap: str, topic: str, events: Sequence[Event | tuple[bytes, bytes]]
) -> None:
    """Publish events keyed like an upstream system would (or raw (key, value) records)."""
    await produce(bootstrap, topic, [(*_record(e), []) for e in events])


def _record(event: Event | tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    if isinstance(event, tuple):
        return event
    entity = getattr(event, "entity_id", None) or getattr(event, "subject_event_id", "")
    return str(entity).encode(), event.model_dump_json().encode()


class TopicTail:
    """Reads a whole topic from its beginning (no group) and keeps reading as it grows."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._topic = topic
        self.records: list[Record] = []

    async def __aenter__(self) -> TopicTail:
        await self._consumer.start()
        await self._consumer.topics()
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_beginning(*assigned)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def collect(
        self,
        keep: Callable[[Record], bool],
        *,
        expect: int,
        timeout_s: float = 30.0,
        settle_s: float = 0.0,
    ) -> list[Record]:
        """The kept records once there are ``expect`` of them (or the timeout), after reading
        ``settle_s`` longer for any that should not be there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while sum(map(keep, self.records)) < expect and loop.time() < deadline:
            await self._poll()
        settle = loop.time() + settle_s
        while loop.time() < settle:
            await self._poll()
        return [r for r in self.records if keep(r)]

    async def _poll(self) -> None:
        fetched = await self._consumer.getmany(timeout_ms=200)
        self.records += [r for batch in fetched.values() for r in batch]


def driftloop(bootstrap: str, *args: str) -> Result:
    """Run ``driftloop *args`` in-process against the broker (call it in a thread)."""
    return CliRunner().invoke(app, list(args), env={"DRIFTLOOP_KAFKA_BOOTSTRAP": bootstrap})


async def run_cli(bootstrap: str, *args: str) -> Result:
    """``driftloop`` in a worker thread, since it runs its own event loop."""
    return await asyncio.to_thread(driftloop, bootstrap, *args)
