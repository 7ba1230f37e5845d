"""The runtime's batch delivery pipeline against a bare aiokafka loop, in the same run.

Both consume the same N data events from a 3-partition topic (each in its own consumer group)
and republish them to their own output topic:

- baseline: ``getmany(max_records=500)`` → ``json.loads`` → ``json.dumps`` → ``send`` → await
  every send → ``commit()``;
- runtime: the relay of the delivery tests (``tests/integration/apps/relay.py``) built with
  ``driftloop_runtime``: contract parsing, handler, traced publish, commit after the acks.

Both are measured the same way, by an observer consumer in the same process that counts the
records on the contender's output topic (an output counts once the broker has it, which is after
the contender's producer was acknowledged). Its cost is the same in both runs. The clock starts
with the clients (``consumer.start()`` / ``relay.start()``) and stops when the observer has seen
N outputs. Joining a new consumer group takes seconds on its own (about half the session timeout
on the embedded broker), so the rate that is compared is the one after the join: outputs seen
after the observer's first fetch, divided by the time from that fetch to the N-th output.
Baseline and runtime alternate for a few rounds (each in new consumer groups, to new output
topics); the ratio runtime/baseline of the median rates is the figure to watch. Absolute rates
depend on the machine and on whoever else is using it.

    uv run python -m bench.runtime_relay --events 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from driftloop_cli.local import LocalStack
from driftloop_contracts import DataEvent, FeaturesComputed
from driftloop_runtime import RuntimeSettings
from driftloop_runtime.kafka import client_options
from tests.integration.apps.relay import RelaySettings, wire

__all__ = ["Run", "main", "rate_cells", "reader", "table"]

PARTITIONS = 3
ENTITIES = 1_000
MAX_RECORDS = 500  # the runtime's default kafka_max_records
FETCH_TIMEOUT_MS = 100  # the runtime's default kafka_fetch_timeout_ms
TIMEOUT_S = 300.0  # per contender, from the observer's start to the N-th output
RESULTS = Path(__file__).parent / "results" / "runtime_relay.json"
LOG = RESULTS.with_suffix(".log")
TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@dataclass(frozen=True)
class Run:
    """How long one contender took to turn N input events into N confirmed outputs."""

    events: int
    seconds: float  # from starting the clients to the N-th output, group join included
    steady_events: int  # outputs after the observer's first fetch
    steady_seconds: float  # from that first fetch to the N-th output

    @property
    def per_second(self) -> float:
        """Outputs per second once the contender has joined its group and is flowing."""
        if self.steady_events <= 0 or self.steady_seconds <= 0:  # all came in one fetch
            return self.events / self.seconds
        return self.steady_events / self.steady_seconds

    @property
    def start_up_seconds(self) -> float:
        return self.seconds - self.steady_seconds


def unique(prefix: str) -> str:
    return f"bench-{prefix}-{uuid.uuid4().hex[:8]}"


def data_events(n: int, *, seed: int = 7) -> list[DataEvent]:
    """Payment-like events, ~8 fields each, spread over ``ENTITIES`` entities."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        DataEvent(
            event_id=f"evt-{i:08d}",
            dataset="payments",
            entity_id=f"acct-{rng.randrange(ENTITIES):04d}",
            occurred_at=start + timedelta(seconds=i),
            fields={
                "amount": round(rng.lognormvariate(3, 1), 2),
                "merchant": f"m-{rng.randrange(500)}",
                "country": rng.choice(("DE", "FR", "NL", "US", "GB")),
                "channel": rng.choice(("web", "pos", "app")),
                "is_online": rng.random() < 0.6,
                "items": rng.randint(1, 9),
                "hour": rng.randrange(24),
                "risk": round(rng.random(), 4),
            },
        )
        for i in range(n)
    ]


async def new_topics(options: dict[str, Any], *names: str) -> None:
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1) for name in names])
    finally:
        await admin.close()


def new_producer(options: dict[str, Any]) -> AIOKafkaProducer:
    # the same producer settings as the runtime's broker (driftloop_runtime.kafka.create_broker)
    return AIOKafkaProducer(
        **options,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        enable_idempotence=False,
    )


async def produce(
    options: dict[str, Any],
    topic: str,
    events: Sequence[DataEvent | FeaturesComputed],
    traceparents: Sequence[bytes] | None = None,
) -> int:
    """Send ``events`` keyed by entity, with a trace header as upstream would (one sampled
    trace, or each event's of ``traceparents``); return bytes sent."""
    values = [e.model_dump_json(exclude_none=True).encode() for e in events]
    parents = traceparents or [TRACEPARENT] * len(events)
    producer = new_producer(options)
    await producer.start()
    try:
        sent = [
            await producer.send(
                topic, value, key=event.entity_id.encode(), headers=[("traceparent", parent)]
            )
            for event, value, parent in zip(events, values, parents, strict=True)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return sum(map(len, values))


@asynccontextmanager
async def reader(
    options: dict[str, Any],
    topics: Sequence[str],
    *,
    from_start: bool = True,
    group_id: str | None = None,
) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer that joins no group (``group_id`` only names whose offsets it commits),
    assigned every partition of ``topics`` and positioned at their start (or,
    ``from_start=False``, their end); stopped on leaving."""
    # On the embedded broker a fetch at the end of the log can wait up to fetch_max_wait_ms
    # (500 ms by default) even while records arrive: 10 ms keeps the observer's clock fine.
    consumer = AIOKafkaConsumer(
        **options, group_id=group_id, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        consumer.assign(partitions)
        if from_start:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        yield consumer
    finally:
        await consumer.stop()


async def observe(
    options: dict[str, Any], topic: str, expect: int, ready: asyncio.Event
) -> tuple[float, int]:
    """Read ``topic`` from the start until ``expect`` records have been seen.

    Sets ``ready`` once it is assigned and positioned. Returns (when the first fetch with records
    came back, how many records it held) once the N-th record was seen.
    """
    async with reader(options, [topic]) as consumer:
        ready.set()
        seen, first, first_count = 0, 0.0, 0
        while seen < expect:
            batches = await consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS)
            got = sum(len(records) for records in batches.values())
            if got and not seen:
                first, first_count = time.perf_counter(), got
            seen += got
        return first, first_count


async def timed(
    options: dict[str, Any], output: str, events: int, start: Callable[[], Awaitable[None]]
) -> Run:
    """Start the observer, then the contender; time until the observer saw ``events`` outputs."""
    ready = asyncio.Event()
    observer = asyncio.create_task(observe(options, output, events, ready))
    async with asyncio.timeout(TIMEOUT_S):
        await ready.wait()
        began = time.perf_counter()
        await start()
        first, first_count = await observer
    ended = time.perf_counter()
    return Run(
        events=events,
        seconds=ended - began,
        steady_events=events - first_count,
        steady_seconds=ended - first,
    )


async def bare_loop(options: dict[str, Any], source: str, sink: str, events: int) -> None:
    """consume → json.loads → json.dumps → send → await the sends → commit, per fetched batch."""
    consumer = AIOKafkaConsumer(
        source,
        **options,
        group_id=unique("baseline"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        # aiokafka keeps one fetch in flight per broker; once a partition reaches the end of the
        # log, that fetch can wait fetch_max_wait_ms (500 ms by default) and the other
        # partitions are not fetched meanwhile. This loop drains its buffer in far less than
        # that, the slower runtime does not, so with the default these stalls (~0.4 s at each
        # partition's end here) would be measured for the baseline only.
        fetch_max_wait_ms=10,
    )
    producer = new_producer(options)
    await consumer.start()
    await producer.start()
    try:
        processed = 0
        while processed < events:
            batches = await consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS, max_records=MAX_RECORDS)
            records = [record for batch in batches.values() for record in batch]
            sent = [
                await producer.send(sink, json.dumps(json.loads(r.value)).encode(), key=r.key)
                for r in records
            ]
            await asyncio.gather(*sent)
            await consumer.commit()
            processed += len(records)
    finally:
        await producer.stop()
        await consumer.stop()


async def bench_baseline(options: dict[str, Any], source: str, events: int) -> Run:
    sink = unique("baseline-out")
    await new_topics(options, sink)
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        tasks.append(asyncio.create_task(bare_loop(options, source, sink, events)))

    try:
        run = await timed(options, sink, events, start)
        await tasks[0]  # its last commit
        return run
    finally:
        for task in tasks:
            task.cancel()  # only matters when the observer failed or timed out


async def bench_runtime(settings: RuntimeSettings, source: str, events: int, work: Path) -> Run:
    options = client_options(settings)
    sink = unique("runtime-out")
    await new_topics(options, sink)
    relay = wire(
        RelaySettings(
            kafka_bootstrap=settings.kafka_bootstrap,
            mongo_uri=settings.mongo_uri,
            traces_file=work / "traces.jsonl",
            input_topic=source,
            output_topic=sink,
            group_id=unique("runtime"),
        )
    )
    try:
        return await timed(options, sink, events, relay.start)
    finally:
        await relay.stop()
        relay.tracer_provider.shutdown()


async def bench(settings: RuntimeSettings, events: int, rounds: int, work: Path) -> dict[str, Any]:
    """Produce the input once, then alternate baseline and runtime ``rounds`` times."""
    options = client_options(settings)
    source = unique("in")
    await new_topics(options, source)
    payload = await produce(options, source, data_events(events))
    runs: dict[str, list[Run]] = {"baseline": [], "runtime": []}
    # each round's relay installs its own tracer provider; the global one can only be set once
    logging.getLogger("opentelemetry.trace").setLevel(logging.ERROR)
    # FastStream's access log (two lines per batch) goes to a file instead of the terminal: its
    # handler keeps the stream that is stdout when the first broker starts.
    with LOG.open("w") as log, redirect_stdout(log):
        for _ in range(rounds):
            runs["baseline"].append(await bench_baseline(options, source, events))
            runs["runtime"].append(await bench_runtime(settings, source, events, work))
    baseline, runtime = (median_run(runs[name]) for name in ("baseline", "runtime"))
    return {
        "benchmark": "runtime_relay",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": events,
        "rounds": rounds,
        "partitions": PARTITIONS,
        "entities": ENTITIES,
        "mean_event_bytes": round(payload / events),
        "baseline": summary(baseline, runs["baseline"]),
        "runtime": summary(runtime, runs["runtime"]),
        "ratio": round(runtime.per_second / baseline.per_second, 3),
        "ratio_by_round": [
            round(r.per_second / b.per_second, 3)
            for b, r in zip(runs["baseline"], runs["runtime"], strict=True)
        ],
        "ratio_from_start": round(baseline.seconds / runtime.seconds, 3),
        "versions": versions(),
        "cpus": os.cpu_count(),
    }


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.per_second)[len(runs) // 2]


def summary(run: Run, rounds: list[Run]) -> dict[str, Any]:
    """The median round's figures, and the rate of every round."""
    return {
        "events": run.events,
        "seconds": round(run.steady_seconds, 3),
        "events_counted": run.steady_events,
        "events_per_s": round(run.per_second),
        "start_up_seconds": round(run.start_up_seconds, 3),
        "seconds_from_start": round(run.seconds, 3),
        "events_per_s_by_round": [round(r.per_second) for r in rounds],
    }


def versions() -> dict[str, str]:
    names = ("aiokafka", "faststream", "pydantic", "opentelemetry-sdk")
    return {"python": platform.python_version(), **{name: version(name) for name in names}}


@contextmanager
def infrastructure(home: Path) -> Iterator[RuntimeSettings]:
    """The broker and store named by the environment, or an embedded pair stopped at the end."""
    if os.environ.get("DRIFTLOOP_KAFKA_BOOTSTRAP") and os.environ.get("DRIFTLOOP_MONGO_URI"):
        yield RuntimeSettings()
        return
    stack = LocalStack(home / "stack")
    env = stack.up(infra_only=True)
    try:
        yield RuntimeSettings(
            kafka_bootstrap=env["DRIFTLOOP_KAFKA_BOOTSTRAP"],
            mongo_uri=env["DRIFTLOOP_MONGO_URI"],
        )
    finally:
        stack.down()  # stops the broker and the store by the process ids it recorded


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """``rows`` (the first is the header) as lines of right-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]


def rate_cells(figures: dict[str, Any]) -> tuple[str, str, str, str]:
    """A contender's events counted, seconds, events/s and start-up seconds, for a table."""
    return (
        f"{figures['events_counted']:,}",
        f"{figures['seconds']:.2f}",
        f"{figures['events_per_s']:,}",
        f"{figures['start_up_seconds']:.1f}",
    )


def report(result: dict[str, Any]) -> str:
    """A table of the median rounds (counted from each contender's first output)."""
    header = ("median round", "events", "seconds", "events/s", "start-up s", "events/s by round")
    rows = [header]
    for name in ("baseline", "runtime"):
        r = result[name]
        by_round = " ".join(f"{rate:,}" for rate in r["events_per_s_by_round"])
        rows.append((name, *rate_cells(r), by_round))
    lines = table(rows)
    by_round = " ".join(f"{ratio:.2f}" for ratio in result["ratio_by_round"])
    return "\n".join(
        [
            *lines,
            f"runtime/baseline: {result['ratio']:.2f} (by round: {by_round}; from start, group "
            f"join included: {result['ratio_from_start']:.2f})",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="runtime relay vs bare aiokafka loop")
    parser.add_argument("--events", type=int, default=20_000, help="events to relay (each)")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/runtime pairs; median")
    args = parser.parse_args(argv)
    if args.events < 2_000:
        parser.error("--events: at least 2,000, or the baseline is over before it is measured")
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="driftloop-bench-"))
    try:
        with infrastructure(work) as settings:
            result = asyncio.run(bench(settings, args.events, args.rounds, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"written to {RESULTS}; FastStream's log in {LOG}")


if __name__ == "__main__":
    main(sys.argv[1:])
