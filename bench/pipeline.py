"""Ingestion and feature service under load, each against a bare aiokafka loop, in one run.

The script starts the embedded broker and store itself (``LocalStack``, infra only, in a
temporary folder; stopped at the end by the process ids it recorded), applies the fraud spec
(``specs/fraud.yaml``, as dataset ``fraud``) with a ``spec applied`` event, and produces N raw
data events of that spec to ``driftloop.data.v1``: the card transactions of
``driftloop_cli.simulation.CardTransactions`` (~1,000 cards of uneven activity, ~0.8 s apart on
average, a few percent fraud). All of them are valid.

Throughput, one contender at a time, each a process of its own (``python -m ...``):

1. the bare loop of ``bench.runtime_relay`` (``getmany`` → ``json.loads`` → ``json.dumps`` →
   ``send`` → await the sends → ``commit``), run by ``bench.bare_loop``, from the raw topic to a
   topic of its own;
2. ingestion (``python -m driftloop_ingestion``): raw → ``driftloop.data.validated.v1``;
3. feature (``python -m driftloop_feature``), started once all N validated events are on the
   log: validated → ``driftloop.features.v1`` (its offline-store writer, a second consumer in
   the same process, writes the vectors to the store meanwhile, as it does in production).

Method (the one of ``bench.runtime_relay``, reused from it): an observer consumer in this
process reads the contender's output topic from the start; an output counts once the broker
has it. Joining a consumer group takes seconds on the embedded broker, so the rate is counted
from the observer's first fetch that returned outputs to the N-th output: outputs after that
first fetch / the time between. The ratio to the bare loop is the figure to watch, not the
absolute rates: the machines are shared and noisy. The bare loop republishes the raw events
as they are; the services publish larger events (see ``mean_bytes``) and trace each one.

Latency, both services running and idle (caught up): a paced producer offers M more events
(20,000 by default) at a fixed rate. Both services now share the machine with the broker and
the store, so the rate is set from what they sustain together, taken as if one core ran both
in turn: capacity = 1 / (1/ingestion + 1/feature), offered = 50% of that (``--load``, or
``--rate`` in events/s). At 50% of the slower service alone the queue grew on 2 cores. The
services do not carry a raw event's headers or record timestamp into their outputs, so the
publish time (``time.perf_counter()`` right before ``producer.send``, the producer's 5 ms
linger still ahead) is kept per event id in this process; the observer, in the same process
(``fetch_max_wait_ms=10``), looks up each output's ``subject_event_id`` when its fetch returns.
Reported: percentiles from publish to the validated event and to the feature vector, the rate
the vectors came out at, the median of the first and the last quarter, and ``kept_up`` (all
vectors seen, out at >= 95% of the rate sent, last quarter's median <= 1.5x the first's + 50
ms: no queue building up).

Memory: the high-water mark of each service process's resident set (``VmHWM`` in
``/proc/PID/status``), read after the latency phase, so it covers the whole run.

CPU: the broker's, the store's, this process's and the contender's CPU time are sampled every
0.2 s; ``cpu_cores`` is what each used while a contender was counted (1.0 = one core busy).

``--profile DIR`` runs py-spy on each contender during its throughput phase (folded stacks;
it slows them, so those figures are not the reference ones); ``--service-env NAME=VALUE`` sets
extra environment for both services (e.g. ``OTEL_TRACES_SAMPLER=always_off``).

    uv run python -m bench.pipeline --events 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from bench.runtime_relay import (
    PARTITIONS,
    Run,
    median_run,
    new_producer,
    new_topics,
    produce,
    timed,
    unique,
    versions,
)
from driftloop_cli.local import LocalStack
from driftloop_cli.local.infra import http_answers
from driftloop_cli.local.processes import free_port, spawn, stop
from driftloop_cli.simulation import CardTransactions
from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    FEATURES_TOPIC,
    SPECS_TOPIC,
    DataEvent,
)
from tests.integration.feature.stream import fraud_spec, publish

__all__ = ["main"]

DATASET = "fraud"
CARDS = 1_000
DATABASE = "bench_pipeline"
LATENCY_EVENTS = 20_000
LOAD = 0.5  # offered rate in the latency phase, as a fraction of the two services' capacity
READY_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 180.0  # offline store catching up; latency outputs after the last send
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "pipeline.json"
# for --profile: `uv pip install py-spy` (into the venv), or one on the PATH
PY_SPY = shutil.which("py-spy", path=Path(sys.executable).parent) or shutil.which("py-spy")
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@dataclass
class Processes:
    """Every process this run started (besides the stack's), stopped by id at the end."""

    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    profile: Path | None = None  # where py-spy writes each contender's folded stacks
    profilers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def stop_all(self) -> None:
        for name in list(self.profilers):
            self.stop_profiler(name)
        for child in reversed(self.children.values()):
            if child.poll() is None:  # one that exited was reaped: its id may be another's now
                stop(child.pid)
        self.children.clear()

    def start_profiler(self, name: str) -> None:
        """py-spy, sampling ``name`` 100 times a second until ``stop_profiler``."""
        if self.profile is None:
            return
        self.profile.mkdir(parents=True, exist_ok=True)
        output = self.profile / f"{name}.folded"
        assert PY_SPY is not None, "checked by main"
        command = [PY_SPY, "record", "--pid", str(self.children[name].pid), "--rate", "100"]
        command += ["--format", "raw", "--output", str(output)]
        self.profilers[name] = spawn(command, log=self.profile / f"{name}.py-spy.log")

    def stop_profiler(self, name: str) -> None:
        """Stop ``name``'s py-spy with SIGINT, on which it writes its samples."""
        profiler = self.profilers.pop(name, None)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(profiler.pid)

    def peak_memory(self, name: str) -> dict[str, float]:
        """VmHWM (the resident set's high-water mark) and VmRSS of a running process, in MiB."""
        status = Path(f"/proc/{self.children[name].pid}/status").read_text().splitlines()
        kib = {
            name: int(value.split()[0])
            for name, _, value in (line.partition(":") for line in status)
            if name in ("VmHWM", "VmRSS")
        }
        return {
            "peak_rss_mib": round(kib["VmHWM"] / 1024, 1),
            "rss_mib": round(kib["VmRSS"] / 1024, 1),
        }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (``None`` once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # from field 3 (state) on: utime is 14, stime 15
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class CpuSampler:
    """The CPU time of the broker, the store, this process (the observer) and the contenders,
    sampled every 0.2 s, to tell how many cores each used while a contender was counted."""

    fixed: dict[str, int]
    processes: Processes
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            running = self.processes.children.items()
            pids = {**self.fixed, **{n: c.pid for n, c in running if c.poll() is None}}
            cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
            now = time.perf_counter()
            self.samples.append((now, {n: v for n, v in cpu.items() if v is not None}))
            await asyncio.sleep(0.2)

    def cores(self, start: float, end: float) -> dict[str, float]:
        """Cores each process used from ``start`` to ``end`` (between the samples inside)."""
        inside = [(at, cpu) for at, cpu in self.samples if start <= at <= end]
        used = {}
        for name in {name for _, cpu in inside for name in cpu}:
            seen = [(at, cpu[name]) for at, cpu in inside if name in cpu]
            if len(seen) >= 2 and seen[-1][0] > seen[0][0]:
                used[name] = round((seen[-1][1] - seen[0][1]) / (seen[-1][0] - seen[0][0]), 2)
        return dict(sorted(used.items()))


def launch(
    processes: Processes, name: str, command: list[str], env: dict[str, str], log: Path
) -> None:
    """Start ``command`` as ``name``, with a port of its own (``DRIFTLOOP_HTTP_PORT``)."""
    port = free_port()
    processes.ports[name] = port
    child = spawn(command, log=log, env={**env, "DRIFTLOOP_HTTP_PORT": str(port)})
    processes.children[name] = child
    processes.start_profiler(name)


async def watch(
    processes: Processes, name: str, log: Path, *, http: bool, timing: asyncio.Task[Run]
) -> None:
    """Return once ``name`` answers /healthz (``http``) or has exited cleanly; cancel ``timing``
    and raise if it dies (or does not come up) first."""
    child = processes.children[name]
    url = f"http://127.0.0.1:{processes.ports[name]}/healthz"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if http and await asyncio.to_thread(http_answers, url):
            return
        code = child.poll()
        if code == 0 and not http:
            return
        late = http and time.monotonic() > deadline
        if code is not None or late:
            timing.cancel()
            tail = (await asyncio.to_thread(log.read_text))[-3000:]
            problem = "did not come up" if code is None else f"exited with {code}"
            raise RuntimeError(f"{name} {problem}:\n{tail}")
        if timing.done() and not http:
            return
        await asyncio.sleep(0.1)


async def timed_process(
    options: dict[str, Any],
    output: str,
    events: int,
    processes: Processes,
    name: str,
    command: list[str],
    env: dict[str, str],
    log: Path,
    *,
    http: bool = True,
) -> tuple[Run, float]:
    """``runtime_relay.timed`` with a process as the contender: started once the observer is
    positioned, watched meanwhile. Returns once the observer counted N outputs and (``http``)
    the process answers: the run, and when (``perf_counter``) the N-th output was seen."""
    watchers: list[asyncio.Task[None]] = []

    async def start() -> None:
        launch(processes, name, command, env, log)
        watchers.append(asyncio.create_task(watch(processes, name, log, http=http, timing=timing)))

    timing = asyncio.create_task(timed(options, output, events, start))
    try:
        run = await timing
        ended = time.perf_counter()
    except asyncio.CancelledError:
        if watchers and watchers[0].done() and watchers[0].exception() is not None:
            await watchers[0]  # raises what went wrong
        raise
    processes.stop_profiler(name)
    await watchers[0]
    return run, ended


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


@dataclass
class Latency:
    """What the latency phase saw: per event, when it was sent and when its outputs arrived."""

    sent: dict[str, float] = field(default_factory=dict)
    validated: dict[str, float] = field(default_factory=dict)
    vectors: dict[str, float] = field(default_factory=dict)


async def paced_producer(
    options: dict[str, Any], events: list[DataEvent], rate: float, latency: Latency
) -> float:
    """Send ``events`` to the raw topic at ``rate`` per second; return the rate achieved."""
    records = [
        (e.event_id, e.entity_id.encode(), e.model_dump_json(exclude_none=True).encode())
        for e in events
    ]
    producer = new_producer(options)
    await producer.start()
    try:
        pending: list[asyncio.Future[Any]] = []
        sent, began = 0, time.perf_counter()
        while sent < len(records):
            due = min(len(records), math.floor((time.perf_counter() - began) * rate) + 1)
            for event_id, key, value in records[sent:due]:
                latency.sent[event_id] = time.perf_counter()
                pending.append(await producer.send(DATA_TOPIC, value, key=key))
            sent = max(sent, due)
            await asyncio.sleep(0.002)
        took = time.perf_counter() - began
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(records) / took


async def observe_outputs(
    options: dict[str, Any], expect: int, latency: Latency, ready: asyncio.Event
) -> None:
    """Note when each sent event's validated event and feature vector arrive, until ``expect``
    vectors of sent events were seen (records of earlier events are skipped)."""
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False, fetch_max_wait_ms=10)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in (DATA_VALIDATED_TOPIC, FEATURES_TOPIC)
            for p in range(PARTITIONS)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        ready.set()
        while len(latency.vectors) < expect:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for tp, records in batches.items():
                arrived = latency.vectors if tp.topic == FEATURES_TOPIC else latency.validated
                for record in records:
                    subject = json.loads(record.value)["subject_event_id"]
                    if subject in latency.sent and subject not in arrived:
                        arrived[subject] = now
    finally:
        await consumer.stop()


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of ``samples_s``, in milliseconds (nearest rank)."""
    ordered = sorted(samples_s)

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
    options: dict[str, Any], events: list[DataEvent], rate: float
) -> dict[str, Any]:
    """Offer ``events`` at ``rate``; publish → validated and → vector latencies, in order sent."""
    latency, ready = Latency(), asyncio.Event()
    observer = asyncio.create_task(observe_outputs(options, len(events), latency, ready))
    await ready.wait()
    sent_rate = await paced_producer(options, events, rate, latency)
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            await observer
    except TimeoutError:
        pass  # reported: fewer vectors than events
    order = [e.event_id for e in events if e.event_id in latency.vectors]
    end_to_end = [latency.vectors[i] - latency.sent[i] for i in order]
    stage = [latency.validated[i] - latency.sent[i] for i in order if i in latency.validated]
    arrivals = sorted(latency.vectors.values())
    span = arrivals[-1] - arrivals[0] if arrivals else 0.0
    out_rate = (len(arrivals) - 1) / span if span > 0 else 0.0
    quarter = max(1, len(order) // 4)
    by_quarter = [
        percentiles(end_to_end[q * quarter : (q + 1) * quarter] or end_to_end)["p50_ms"]
        for q in range(4)
    ]
    first, last = by_quarter[0], by_quarter[-1]
    return {
        "events": len(events),
        "offered_per_s": round(rate),
        "sent_per_s": round(sent_rate),
        "vectors_seen": len(order),
        "vectors_per_s": round(out_rate),
        "publish_to_vector": percentiles(end_to_end),
        "publish_to_validated": percentiles(stage),
        "p50_by_quarter_ms": by_quarter,
        # below saturation: the vectors come out at the rate offered, and no queue builds up
        "kept_up": len(order) == len(events)
        and out_rate >= 0.95 * sent_rate
        and last <= 1.5 * first + 50,
    }


async def count_rows(uri: str, expect: int, samples: list[tuple[float, int]]) -> None:
    """Sample (``perf_counter``, rows) of the offline store until it holds ``expect`` rows."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        rows = client[DATABASE]["offline_rows"]
        while not samples or samples[-1][1] < expect:
            samples.append((time.perf_counter(), await rows.estimated_document_count()))
            await asyncio.sleep(0.25)
    finally:
        await client.close()


def rows_between(samples: list[tuple[float, int]], start: float, end: float) -> int:
    """How many rows the offline store gained from ``start`` to ``end`` (nearest samples)."""
    inside = [rows for at, rows in samples if start <= at <= end]
    return inside[-1] - inside[0] if inside else 0


def rows_per_s(samples: list[tuple[float, int]]) -> int | None:
    """The offline store's rate from the first sample that saw rows to the last."""
    started = [(at, rows) for at, rows in samples if rows > 0]
    if len(started) < 2 or started[-1][0] <= started[0][0]:
        return None
    return round((started[-1][1] - started[0][1]) / (started[-1][0] - started[0][0]))


def contender(run: Run, baseline: Run | None) -> dict[str, Any]:
    """A contender's figures, counted from its first output (and its share of the bare loop's)."""
    figures: dict[str, Any] = {
        "events": run.events,
        "events_counted": run.steady_events,
        "seconds": round(run.steady_seconds, 3),
        "events_per_s": round(run.per_second),
        "start_up_seconds": round(run.start_up_seconds, 3),
    }
    if baseline is not None:
        figures["ratio_to_bare_loop"] = round(run.per_second / baseline.per_second, 3)
    return figures


async def mean_bytes(options: dict[str, Any], topic: str, sample: int = 2_000) -> int:
    """The mean value size of the first ``sample`` records of ``topic``."""
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False, fetch_max_wait_ms=10)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        sizes: list[int] = []
        while len(sizes) < sample:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches:
                break
            sizes += [len(r.value) for records in batches.values() for r in records]
        return round(sum(sizes) / len(sizes)) if sizes else 0
    finally:
        await consumer.stop()


async def bench(
    env: dict[str, str],
    processes: Processes,
    work: Path,
    *,
    events: int,
    latency_events: int,
    load: float,
    rate: float | None,
    infra_pids: dict[str, int],
    extra_env: dict[str, str],
    bare_rounds: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    options = {"bootstrap_servers": env["DRIFTLOOP_KAFKA_BOOTSTRAP"]}
    _, applied = fraud_spec(DATASET)
    stream = CardTransactions(dataset=DATASET, cards=CARDS, start=START)
    say(f"producing {events:,} raw events and the fraud spec")
    await publish(options["bootstrap_servers"], SPECS_TOPIC, [applied])
    await produce(options, DATA_TOPIC, [t.event for t in stream.take(events)])
    python = [sys.executable, "-m"]
    service_env = {
        **env,
        "DRIFTLOOP_MONGO_DATABASE": DATABASE,
        "DRIFTLOOP_CONSUMER_GROUP": unique("feature"),
        "PYTHONPATH": str(REPO),
        **extra_env,
    }

    cpu = CpuSampler({**infra_pids, "observer": os.getpid()}, processes)
    sampling = asyncio.create_task(cpu.run())
    # the bare loop is over in ~2 s, which makes a single round noisy: the median of a few
    bare_runs: list[tuple[Run, float]] = []
    for round_ in range(1, bare_rounds + 1):
        say(f"bare loop, round {round_} of {bare_rounds}")
        sink = unique("bare-loop-out")
        await new_topics(options, sink)
        name = f"bare_loop_{round_}"
        bare_loop = [*python, "bench.bare_loop", options["bootstrap_servers"], DATA_TOPIC, sink]
        bare_runs.append(
            await timed_process(
                options,
                sink,
                events,
                processes,
                name,
                [*bare_loop, str(events)],
                service_env,
                work / f"{name}.log",
                http=False,
            )
        )
        say(f"  {bare_runs[-1][0].per_second:,.0f} events/s")
    median = median_run([run for run, _ in bare_runs])
    baseline_round, (baseline, baseline_end) = next(
        (n, pair) for n, pair in enumerate(bare_runs, 1) if pair[0] is median
    )

    say("ingestion")
    ingestion, ingestion_end = await timed_process(
        options,
        DATA_VALIDATED_TOPIC,
        events,
        processes,
        "ingestion",
        [*python, "driftloop_ingestion"],
        {**service_env, "DRIFTLOOP_TRACES_FILE": str(work / "ingestion.traces.jsonl")},
        work / "ingestion.log",
    )
    say(f"  {ingestion.per_second:,.0f} events/s")

    say("feature")
    rows: list[tuple[float, int]] = []
    counting = asyncio.create_task(count_rows(env["DRIFTLOOP_MONGO_URI"], events, rows))
    feature, feature_end = await timed_process(
        options,
        FEATURES_TOPIC,
        events,
        processes,
        "feature",
        [*python, "driftloop_feature"],
        {**service_env, "DRIFTLOOP_TRACES_FILE": str(work / "feature.traces.jsonl")},
        work / "feature.log",
    )
    say(f"  {feature.per_second:,.0f} events/s; waiting for the offline store")
    async with asyncio.timeout(DRAIN_TIMEOUT_S):
        await counting

    # Both services run at once in this phase, on the same cores as the broker and the store:
    # their joint capacity is taken as if one core ran both in turn (a floor with more cores).
    capacity = 1 / (1 / ingestion.per_second + 1 / feature.per_second)
    if rate is None:
        rate = load * capacity
    else:
        load = rate / capacity
    say(f"latency: {latency_events:,} events at {rate:,.0f}/s")
    paced = [t.event for t in stream.take(latency_events)]
    latency_start = time.perf_counter()
    latency = await measure_latency(options, paced, rate)
    latency_cores = cpu.cores(latency_start, time.perf_counter())
    sampling.cancel()

    feature_start = feature_end - feature.steady_seconds

    def cores(run: Run, end: float) -> dict[str, Any]:
        return {"cpu_cores": cpu.cores(end - run.steady_seconds, end)}

    stats = {
        name: get_json(f"http://127.0.0.1:{processes.ports[name]}/v1/stats")
        for name in ("ingestion", "feature")
    }
    return {
        "benchmark": "pipeline",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": events,
        "dataset": DATASET,
        "cards": CARDS,
        "partitions": PARTITIONS,
        "mean_bytes": {
            "raw": await mean_bytes(options, DATA_TOPIC),
            "validated": await mean_bytes(options, DATA_VALIDATED_TOPIC),
            "vector": await mean_bytes(options, FEATURES_TOPIC),
        },
        "bare_loop": {
            **contender(baseline, None),
            "median_of_rounds": bare_rounds,
            "events_per_s_by_round": [round(r.per_second) for r, _ in bare_runs],
            "cpu_cores": {
                ("bare_loop" if name == f"bare_loop_{baseline_round}" else name): used
                for name, used in cores(baseline, baseline_end)["cpu_cores"].items()
            },
        },
        "ingestion": {
            **contender(ingestion, baseline),
            **processes.peak_memory("ingestion"),
            **cores(ingestion, ingestion_end),
        },
        "feature": {
            **contender(feature, baseline),
            **processes.peak_memory("feature"),
            **cores(feature, feature_end),
        },
        "offline_store": {
            "rows": events,
            "rows_per_s": rows_per_s(rows),
            # rows written while the feature vectors were counted: the writer shares the
            # feature process (and the store a core), so more rows here means fewer vectors/s
            "rows_while_vectors_counted": rows_between(rows, feature_start, feature_end),
        },
        "latency": {
            "capacity_per_s": round(capacity),
            "load": round(load, 3),
            **latency,
            "cpu_cores": latency_cores,
        },
        "service_stats": {
            "ingestion": {k: stats["ingestion"]["data"][k] for k in ("accepted", "rejected")},
            "feature": stats["feature"],
        },
        "service_env": extra_env,
        "versions": versions(),
        "cpus": os.cpu_count(),
    }


@contextmanager
def embedded_stack(home: Path) -> Iterator[tuple[dict[str, str], dict[str, int]]]:
    """The embedded broker and store (topics created), stopped by process id at the end: the
    settings that reach them, and their process ids."""
    stack = LocalStack(home / "stack")
    env = stack.up(infra_only=True)
    try:
        yield env, {p.name: p.pid for p in stack.processes()}
    finally:
        stack.down()


def report(result: dict[str, Any]) -> str:
    """The table of the throughput phase, the offline store's rate and the latency figures."""
    header = (
        "contender",
        "events",
        "seconds",
        "events/s",
        "start-up s",
        "/ bare",
        "peak RSS MiB",
        "cores: self/broker/store/observer",
    )
    rows = [header]
    for name in ("bare_loop", "ingestion", "feature"):
        r = result[name]
        used = r["cpu_cores"]
        rows.append(
            (
                name,
                f"{r['events_counted']:,}",
                f"{r['seconds']:.2f}",
                f"{r['events_per_s']:,}",
                f"{r['start_up_seconds']:.1f}",
                f"{r['ratio_to_bare_loop']:.2f}" if "ratio_to_bare_loop" in r else "1",
                f"{r['peak_rss_mib']:.0f}" if "peak_rss_mib" in r else "-",
                "/".join(f"{used.get(p, 0):.2f}" for p in (name, "broker", "store", "observer")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lat = result["latency"]
    e2e, stage = lat["publish_to_vector"], lat["publish_to_validated"]
    store = result["offline_store"]
    used = ", ".join(f"{name} {cores:.2f}" for name, cores in lat["cpu_cores"].items())
    return "\n".join(
        [
            *lines,
            f"offline store (feature's second consumer): {store['rows_per_s']:,} rows/s from its "
            f"first row to the N-th; {store['rows_while_vectors_counted']:,} rows written while "
            "the vectors were counted",
            f"latency at {lat['offered_per_s']:,} events/s offered ({lat['load']:.0%} of "
            f"1/(1/ingestion + 1/feature) = {lat['capacity_per_s']:,}/s; sent "
            f"{lat['sent_per_s']:,}/s, vectors out {lat['vectors_per_s']:,}/s, "
            f"{lat['vectors_seen']:,}/{lat['events']:,} seen, kept up: {lat['kept_up']}):",
            f"  publish → feature vector  p50 {e2e['p50_ms']} ms  p95 {e2e['p95_ms']} ms  "
            f"p99 {e2e['p99_ms']} ms  max {e2e['max_ms']} ms",
            f"  publish → validated       p50 {stage['p50_ms']} ms  p95 {stage['p95_ms']} ms  "
            f"p99 {stage['p99_ms']} ms  max {stage['max_ms']} ms",
            f"  publish → vector p50 by quarter: "
            f"{' / '.join(str(q) for q in lat['p50_by_quarter_ms'])} ms; cores used: {used}",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ingestion and feature service under load")
    parser.add_argument("--events", type=int, default=100_000, help="events for throughput")
    parser.add_argument(
        "--latency-events", type=int, default=LATENCY_EVENTS, help="paced events for latency"
    )
    parser.add_argument(
        "--load",
        type=float,
        default=LOAD,
        help="offered rate for latency / 1/(1/ingestion + 1/feature) (both services' capacity)",
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="offered events/s for latency (instead of --load)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="folder for py-spy's folded stacks of each contender's throughput phase "
        "(needs py-spy in the venv; slows the contenders: not for the reference figures)",
    )
    parser.add_argument(
        "--bare-rounds", type=int, default=3, help="bare loop runs; the median one is compared"
    )
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of both services, for experiments (e.g. "
        "OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.01); recorded in the results",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    if args.events < 2_000:
        parser.error("--events: at least 2,000, or the bare loop is over before it is measured")
    if args.latency_events < 100 or not 0 < args.load < 1:
        parser.error("--latency-events: at least 100; --load: between 0 and 1")
    if args.bare_rounds < 1:
        parser.error("--bare-rounds: at least 1")
    if not all("=" in item for item in args.service_env):
        parser.error("--service-env: NAME=VALUE")
    extra = dict(item.split("=", 1) for item in args.service_env)
    if args.profile is not None and PY_SPY is None:
        parser.error("--profile: py-spy not found; `uv pip install py-spy` first")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="driftloop-bench-pipeline-"))
    processes = Processes(profile=args.profile)
    began = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {message}", flush=True)

    try:
        with embedded_stack(work) as (env, infra_pids):
            try:
                result = asyncio.run(
                    bench(
                        env,
                        processes,
                        work,
                        events=args.events,
                        latency_events=args.latency_events,
                        load=args.load,
                        rate=args.rate,
                        infra_pids=infra_pids,
                        extra_env=extra,
                        bare_rounds=args.bare_rounds,
                        say=say,
                    )
                )
            finally:
                processes.stop_all()  # the services, before the broker and store they use
    finally:
        if args.keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["wall_seconds"] = round(time.monotonic() - began, 1)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
