"""Latency under a paced load: publish time per event, kept in this process, to the first
output of that event (by ``subject_event_id``) on each topic downstream.

The services do not carry a raw event's headers or record timestamp into their outputs, so the
publish time (``time.perf_counter()`` right before ``producer.send``, the producer's 5 ms linger
still ahead) is kept per event id here; the observer, in the same process
(``fetch_max_wait_ms=10``), looks up each output's ``subject_event_id`` when its fetch returns.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.runtime_relay import new_producer, reader
from driftloop_contracts import DataEvent

__all__ = [
    "DRAIN_TIMEOUT_S",
    "Latency",
    "OnRecord",
    "measure_latency",
    "observe_outputs",
    "paced_producer",
    "percentiles",
]

DRAIN_TIMEOUT_S = 180.0  # outputs after the last send

OnRecord = Callable[[str, dict[str, Any], float], None]
"""Told of every record an observer reads: its topic, its JSON value, when it was read."""


@dataclass
class Latency:
    """What a latency phase saw: when each event was sent, and when its first output arrived
    on each observed topic (topic → event id → ``perf_counter``)."""

    sent: dict[str, float] = field(default_factory=dict)
    arrived: dict[str, dict[str, float]] = field(default_factory=dict)


async def paced_producer(
    options: dict[str, Any],
    topic: str,
    events: Sequence[DataEvent],
    rate: float,
    latency: Latency,
    stop: asyncio.Event | None = None,
) -> float:
    """Send ``events`` to ``topic`` at ``rate`` per second (``math.inf``: as fast as the
    producer takes them), or until ``stop`` is set; return the rate achieved."""
    records = [
        (e.event_id, e.entity_id.encode(), e.model_dump_json(exclude_none=True).encode())
        for e in events
    ]
    producer = new_producer(options)
    await producer.start()
    try:
        pending: list[asyncio.Future[Any]] = []
        sent, began = 0, time.perf_counter()
        while sent < len(records) and not (stop is not None and stop.is_set()):
            due = len(records)
            if not math.isinf(rate):
                due = min(due, math.floor((time.perf_counter() - began) * rate) + 1)
            for event_id, key, value in records[sent:due]:
                latency.sent[event_id] = time.perf_counter()
                pending.append(await producer.send(topic, value, key=key))
            sent = max(sent, due)
            await asyncio.sleep(0.002)
        took = time.perf_counter() - began
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent / took


async def observe_outputs(
    options: dict[str, Any],
    topics: Sequence[str],
    expect: int,
    latency: Latency,
    ready: asyncio.Event,
    on_record: OnRecord | None = None,
) -> None:
    """Note when each sent event's outputs (by ``subject_event_id``) arrive on ``topics``, read
    from their end, until ``expect`` events had one on the last topic (outputs of events not
    sent in this phase are skipped, but ``on_record`` hears of every record)."""
    async with reader(options, topics, from_start=False) as consumer:
        arrived = {topic: latency.arrived.setdefault(topic, {}) for topic in topics}
        ready.set()
        while len(arrived[topics[-1]]) < expect:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for tp, records in batches.items():
                seen = arrived[tp.topic]
                for record in records:
                    value = json.loads(record.value)
                    subject = value["subject_event_id"]
                    if subject in latency.sent and subject not in seen:
                        seen[subject] = now
                    if on_record is not None:
                        on_record(tp.topic, value, now)


def percentiles(samples_s: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean of ``samples_s``, in milliseconds (nearest rank); ``None`` for
    each when there are none."""
    ordered = sorted(samples_s)
    if not ordered:
        return dict.fromkeys(("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"))

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {
        "p50_ms": round(rank(0.50) * 1000, 1),
        "p95_ms": round(rank(0.95) * 1000, 1),
        "p99_ms": round(rank(0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 1),
    }


async def measure_latency(
    options: dict[str, Any],
    events: Sequence[DataEvent],
    rate: float,
    *,
    source: str,
    outputs: dict[str, str],
    on_record: OnRecord | None = None,
) -> dict[str, Any]:
    """Offer ``events`` to ``source`` at ``rate`` (``math.inf``: at once); publish → output
    latencies per stage, in order sent.

    ``outputs`` names the stages' topics in path order ({"validated": ..., "vector": ...}); the
    last one ends the path: its outputs are counted (``<name>s_seen``, ``<name>s_per_s``) and
    their latency by quarter tells whether a queue built up (``kept_up``).
    """
    latency, ready = Latency(), asyncio.Event()
    topics = list(outputs.values())
    observer = asyncio.create_task(
        observe_outputs(options, topics, len(events), latency, ready, on_record)
    )
    await ready.wait()
    sent_rate = await paced_producer(options, source, events, rate, latency)
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            await observer
    except TimeoutError:
        pass  # reported: fewer outputs than events
    last = list(outputs)[-1]
    final = latency.arrived[outputs[last]]
    order = [e.event_id for e in events if e.event_id in final]
    end_to_end = [final[i] - latency.sent[i] for i in order]
    arrivals = sorted(final.values())
    span = arrivals[-1] - arrivals[0] if arrivals else 0.0
    out_rate = (len(arrivals) - 1) / span if span > 0 else 0.0
    quarter = max(1, len(order) // 4)
    by_quarter = [
        percentiles(end_to_end[q * quarter : (q + 1) * quarter] or end_to_end)["p50_ms"] or 0.0
        for q in range(4)
    ]

    def stage(topic: str) -> list[float]:
        arrived = latency.arrived[topic]
        return [arrived[i] - latency.sent[i] for i in order if i in arrived]

    stages = {f"publish_to_{name}": percentiles(stage(t)) for name, t in reversed(outputs.items())}
    first, last_quarter = by_quarter[0], by_quarter[-1]
    return {
        "events": len(events),
        "offered_per_s": None if math.isinf(rate) else round(rate),
        "sent_per_s": round(sent_rate),
        f"{last}s_seen": len(order),
        f"{last}s_per_s": round(out_rate),
        **stages,
        "p50_by_quarter_ms": by_quarter,
        # below saturation: the outputs come out at the rate offered, and no queue builds up
        "kept_up": len(order) == len(events)
        and out_rate >= 0.95 * sent_rate
        and last_quarter <= 1.5 * first + 50,
    }
