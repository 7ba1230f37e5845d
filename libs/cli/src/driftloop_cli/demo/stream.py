"""The upstream side of the demo: card transactions published as data events, each one's
outcome published a fixed number of transactions later."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer

from driftloop_cli.demo.model import StreamEvent
from driftloop_cli.simulation import CardTransactions, Transaction, outcome_of
from driftloop_contracts import DATA_TOPIC, OUTCOMES_TOPIC, Event
from driftloop_runtime import RuntimeSettings
from driftloop_runtime.kafka import client_options

__all__ = ["Producer", "Upstream", "create_producer", "pace"]


class Producer(Protocol):
    """The part of aiokafka's producer the upstream uses."""

    async def start(self) -> None:
        """Connect."""

    async def stop(self) -> None:
        """Flush and disconnect."""

    async def send(self, topic: str, value: bytes, key: bytes) -> Awaitable[Any]:
        """Queue a record; the result is awaited for its acknowledgement."""


def create_producer(settings: RuntimeSettings) -> AIOKafkaProducer:
    """A batching producer for the demo's broker (inside the running event loop)."""
    return AIOKafkaProducer(
        **client_options(settings),
        client_id="demo-upstream",
        linger_ms=5,
        enable_idempotence=False,  # the embedded broker refuses idempotent producers
    )


class Upstream:
    """Publishes a labelled history, then the live stream with its late outcomes."""

    def __init__(
        self,
        transactions: CardTransactions,
        label_delay: int,
        producer: Producer,
    ) -> None:
        """Publish ``transactions``' events; outcomes ``label_delay`` transactions later."""
        self._producer = producer
        self._transactions, self._delay = transactions, label_delay
        self._waiting: deque[Transaction] = deque()
        self.stream: list[StreamEvent] = []
        self.positions: dict[str, int] = {}
        """Event id -> position of every live transaction published."""

    @property
    def published(self) -> int:
        """Live transactions published so far."""
        return len(self.stream)

    async def start(self) -> None:
        """Connect the producer."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def publish_history(self, count: int, chunk: int = 500) -> None:
        """Publish ``count`` transactions with their labels inline, as fast as acknowledged."""
        while count > 0:
            batch = self._transactions.take(min(chunk, count), labelled=True)
            await self._send([(DATA_TOPIC, t.event) for t in batch])
            count -= len(batch)

    async def publish_live(self, count: int) -> None:
        """Publish the next ``count`` live transactions and the outcomes now due."""
        sends: list[tuple[str, Event]] = []
        now = time.time()
        for transaction in self._transactions.take(count):
            self._record(transaction, now)
            sends.append((DATA_TOPIC, transaction.event))
            self._waiting.append(transaction)
            while len(self._waiting) > self._delay:
                sends.append((OUTCOMES_TOPIC, self._outcome(transaction)))
        await self._send(sends)

    async def publish_remaining_outcomes(self) -> None:
        """Publish the outcomes still waiting (the end of the stream has no later events)."""
        last = self._waiting[-1] if self._waiting else None
        sends: list[tuple[str, Event]] = []
        while last is not None and self._waiting:
            sends.append((OUTCOMES_TOPIC, self._outcome(last)))
        await self._send(sends)

    def _record(self, transaction: Transaction, now: float) -> None:
        event_id = transaction.event.event_id
        self.positions[event_id] = len(self.stream)
        self.stream.append(
            StreamEvent(len(self.stream), event_id, transaction.is_fraud, transaction.pattern, now)
        )

    def _outcome(self, now: Transaction) -> Event:
        """The outcome of the oldest waiting transaction, reported at ``now``'s event time."""
        subject = self._waiting.popleft()
        return outcome_of(subject, now.event.occurred_at - subject.event.occurred_at)

    async def _send(self, sends: list[tuple[str, Event]]) -> None:
        futures = [
            await self._producer.send(topic, event.model_dump_json().encode(), key=_key(event))
            for topic, event in sends
        ]
        await asyncio.gather(*futures)


def _key(event: Event) -> bytes:
    return str(getattr(event, "entity_id", "")).encode()


async def pace(upstream: Upstream, total: int, rate: float, tick_s: float = 0.02) -> None:
    """Publish ``total`` live transactions at ``rate`` per second (in small bursts per tick)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while upstream.published < total:
        due = min(total, int((loop.time() - start) * rate) + 1)
        if due > upstream.published:
            await upstream.publish_live(due - upstream.published)
        await asyncio.sleep(tick_s)
