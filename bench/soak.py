"""A soak of the hot path: N raw events through ingestion, feature and scorer, with each
service's resident set sampled every second.

The script starts the embedded broker and store itself (``LocalStack``, infra only, in a
temporary folder; stopped at the end by the process ids it recorded), applies the fraud spec
(``specs/fraud.yaml``, dataset ``fraud``) with a ``spec applied`` event, and fits the spec's
estimator on ``--train-rows`` transactions of a stream of their own (``bench.scoring_inputs``:
features by ``compute_features``, HistGradientBoosting on a numpy matrix as the trainer fits
it), puts it into the store's GridFS and promotes it to champion, as ``bench.scoring`` does.
Ingestion, feature and scorer run as processes of their own (``python -m ...``, same database,
own consumer groups, every setting at its default: tracing at a sample ratio of 1, the
scorer's predict history on); the producing starts once the scorer serves the champion.

Load: N card transactions of ``driftloop_cli.simulation.CardTransactions`` (1,000 cards of
uneven activity, ~0.8 s apart in event time: the fraud spec's 24-hour window spans ~108,000 of
them), drawn, serialised and sent to ``driftloop.data.v1`` a chunk at a time, never more than
``--max-lag`` ahead of the predictions an observer in this process counts on
``driftloop.predictions.v1`` (from its start, no group): as fast as the three services take
them (``--rate`` caps the pace as well). The point is memory, not speed.

Sampled every second: ``VmRSS`` (``/proc/PID/status``) of each service, of the broker and of
the store, with the events produced and predicted so far. Per service, over predictions:

- ``peak_rss_mib``: ``VmHWM``, the kernel's high-water mark of the resident set, read at the end
  (it catches peaks between samples);
- ``rss_at_midpoint_mib``, ``rss_at_end_mib``: the first sample at which N/2 and N predictions
  had been seen;
- ``slope_mib_per_100k_events``: least-squares slope of RSS on predictions over the samples
  from the midpoint to the end, per 100,000 events;
- ``flat``: that slope, over the second half's events, adds less than ``FLAT_SHARE`` (5%) of the
  RSS at the midpoint: a fitted line, not the two end points, so one garbage collection or an
  allocator's step at either end does not decide it.

Targets (the issue's): each service's peak under 300 MiB, and flat over the second half. The
broker (in-memory storage: it holds every record of the run) and the store are sampled for
context, not judged. The scorer's and the feature service's ``/v1/stats`` are read at the
midpoint and at the end (the scorer's predict history: entities, events held, dropped).

    uv run python -m bench.soak                 # 1,000,000 events
    uv run python -m bench.soak --quick         # 50,000: to try the script
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Session, Stack, get_json, run_on_stack, start_service
from bench.processes import CpuSampler, Processes, memory_of
from bench.runtime_relay import PARTITIONS, new_producer, reader, table, unique, versions
from bench.scoring_inputs import promotion, store_model, train, vectors
from driftloop_cli.simulation import CardTransactions
from driftloop_contracts import DATA_TOPIC, MODELS_PROMOTED_TOPIC, PREDICTIONS_TOPIC, SPECS_TOPIC
from driftloop_features import EntityWindows
from tests.integration.feature.stream import fraud_spec, publish

__all__ = ["main"]

DATASET = MODEL_NAME = "fraud"
CARDS = 1_000
DATABASE = "bench_soak"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SERVICES = ("ingestion", "feature", "scorer")
CONTEXT = ("broker", "store")  # sampled, not judged
CHUNK = 1_000  # transactions drawn, serialised and sent at a time
SAMPLE_S = 1.0
STALL_S = 180.0  # no new prediction for this long while events are pending: give up
SERVING_TIMEOUT_S = 120.0
FLAT_SHARE = 0.05
PEAK_TARGET_MIB = 300.0
SERIES_POINTS = 200  # samples kept in the results file, evenly spaced
RESULTS = Path(__file__).parent / "results" / "soak.json"


@dataclass
class Progress:
    """Events sent to the raw topic and predictions seen so far."""

    produced: int = 0
    predicted: int = 0


@dataclass(frozen=True)
class Sample:
    """One second's reading: elapsed seconds, progress, resident set per process (MiB)."""

    seconds: float
    produced: int
    predicted: int
    rss_mib: dict[str, float]


@dataclass
class Soak:
    """A run's shared state: the session, its sizes, what was sampled."""

    session: Session
    events: int
    max_lag: int
    rate: float
    pids: dict[str, int]
    progress: Progress = field(default_factory=Progress)
    samples: list[Sample] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)  # the services' at midpoint and end

    def service_stats(self) -> dict[str, Any]:
        ports = self.session.processes.ports
        return {n: get_json(f"http://127.0.0.1:{ports[n]}/v1/stats") for n in ("feature", "scorer")}


async def prepare(session: Session, train_rows: int) -> dict[str, Any]:
    """Spec applied, the three services up, a model stored and promoted and served; returns
    the model's figures."""
    options, say = session.options, session.say
    spec, applied = fraud_spec(DATASET)
    await publish(options["bootstrap_servers"], SPECS_TOPIC, [applied])
    say(f"starting ingestion, feature and scorer; fitting a model on {train_rows:,} rows")
    envs = {name: session.service_env(DATABASE, consumer_group=unique(name)) for name in SERVICES}
    starting = asyncio.gather(
        *(
            start_service(session, session.service(name, f"driftloop_{name}", env))
            for name, env in envs.items()
        )
    )
    history = CardTransactions(
        cards=CARDS, seed=29, start=START - timedelta(days=30), id_prefix="train"
    )
    rows = vectors(spec, applied.spec_version, history.take(train_rows), EntityWindows())
    trained = await asyncio.to_thread(train, spec, rows, 1)
    await starting
    stored = await store_model(session.env["DRIFTLOOP_MONGO_URI"], DATABASE, MODEL_NAME, trained)
    producer = new_producer(options)
    await producer.start()
    try:
        event = promotion(DATASET, MODEL_NAME, 1, stored, None)
        value = event.model_dump_json().encode()
        await producer.send_and_wait(MODELS_PROMOTED_TOPIC, value, key=DATASET.encode())
    finally:
        await producer.stop()
    await served(session)
    return {
        "estimator": spec.model.final.estimator,
        "train_rows": train_rows,
        "fit_seconds": round(trained.fit_seconds, 2),
        "artifact_bytes": stored.size,
    }


async def served(session: Session) -> None:
    """Return once the scorer serves a champion of the dataset."""
    url = f"http://127.0.0.1:{session.processes.ports['scorer']}/v1/models"
    async with asyncio.timeout(SERVING_TIMEOUT_S):
        while True:
            if (await asyncio.to_thread(get_json, url)).get(DATASET, {}).get("champion"):
                return
            await asyncio.sleep(0.5)


async def produce(soak: Soak) -> None:
    """Send ``soak.events`` transactions, a chunk at a time, within the lag and the rate."""
    stream = CardTransactions(dataset=DATASET, cards=CARDS, start=START)
    progress, began = soak.progress, time.perf_counter()
    producer = new_producer(soak.session.options)
    await producer.start()
    try:
        while progress.produced < soak.events:
            size = min(CHUNK, soak.events - progress.produced)
            await room_for(soak, size, began)
            for transaction in stream.take(size):
                event = transaction.event
                value = event.model_dump_json(exclude_none=True).encode()
                await producer.send(DATA_TOPIC, value, key=event.entity_id.encode())
            progress.produced += size
        await producer.flush()
    finally:
        await producer.stop()


async def room_for(soak: Soak, size: int, began: float) -> None:
    """Return once ``size`` more events stay within the lag behind the predictions and within
    the rate since ``began`` (``perf_counter``)."""
    while True:
        after = soak.progress.produced + size
        elapsed = time.perf_counter() - began
        if after - soak.progress.predicted <= soak.max_lag and after <= soak.rate * elapsed + size:
            return
        await asyncio.sleep(0.05)


async def count_predictions(soak: Soak) -> None:
    """Count the records on the predictions topic, from its start, until cancelled."""
    async with reader(soak.session.options, [PREDICTIONS_TOPIC]) as consumer:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=5_000)
            soak.progress.predicted += sum(len(records) for records in batches.values())


async def sample(soak: Soak) -> None:
    """Every second: the resident set of each process and the progress, until cancelled; the
    services' stats once at the midpoint. Raises if a service exits."""
    began = time.perf_counter()
    while True:
        for name in SERVICES:
            child = soak.session.processes.children[name]
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode} during the soak")
        rss = {name: memory_of(pid)["rss_mib"] for name, pid in soak.pids.items()}
        progress = soak.progress
        elapsed = time.perf_counter() - began
        soak.samples.append(Sample(elapsed, progress.produced, progress.predicted, rss))
        if "midpoint" not in soak.stats and progress.predicted >= soak.events / 2:
            soak.stats["midpoint"] = await asyncio.to_thread(soak.service_stats)
        await asyncio.sleep(SAMPLE_S)


async def until_predicted(soak: Soak) -> None:
    """Return once N predictions were seen; raise if none came for ``STALL_S``."""
    last, since = -1, time.monotonic()
    while soak.progress.predicted < soak.events:
        if soak.progress.predicted != last:
            last, since = soak.progress.predicted, time.monotonic()
        elif time.monotonic() - since > STALL_S:
            raise RuntimeError(f"no prediction for {STALL_S:.0f} s at {last:,} of {soak.events:,}")
        await asyncio.sleep(0.2)


async def run_soak(soak: Soak, cpu: CpuSampler) -> dict[str, Any]:
    """Produce, count and sample until N predictions; the throughput and cores of the run."""
    say = soak.session.say
    say(f"soak: {soak.events:,} events, at most {soak.max_lag:,} ahead of the predictions")
    jobs = (count_predictions, sample, produce, until_predicted, report_progress)
    tasks = [asyncio.create_task(job(soak)) for job in jobs]
    tasks.append(asyncio.create_task(cpu.run()))
    waiting, began = tasks[3], time.perf_counter()
    try:
        pending = set(tasks)
        while not waiting.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises what went wrong in any of them
        ended = time.perf_counter()
        await asyncio.sleep(SAMPLE_S * 1.5)  # one more sample past the N-th prediction
    finally:
        for task in tasks:
            task.cancel()
    soak.stats["end"] = await asyncio.to_thread(soak.service_stats)
    return {
        "seconds": round(ended - began, 1),
        "events_per_s": round(soak.events / (ended - began)),
        "cpu_cores": cpu.cores(began, ended),
    }


async def report_progress(soak: Soak) -> None:
    """A line every 10% of the events."""
    tenth = max(1, soak.events // 10)
    shown = 0
    while True:
        if soak.progress.predicted >= shown + tenth and soak.samples:
            shown = soak.progress.predicted // tenth * tenth
            rss = ", ".join(f"{n} {v:.0f}" for n, v in soak.samples[-1].rss_mib.items())
            soak.session.say(f"  {soak.progress.predicted:,} predicted; RSS MiB: {rss}")
        await asyncio.sleep(1.0)


def at_least(samples: Sequence[Sample], predicted: float) -> int:
    """Index of the first sample with at least ``predicted`` predictions (else the last)."""
    return next((i for i, s in enumerate(samples) if s.predicted >= predicted), len(samples) - 1)


def memory_figures(
    samples: Sequence[Sample], name: str, events: int, peak: float
) -> dict[str, Any]:
    """Peak, midpoint, end, the second half's fitted slope and whether it is flat."""
    mid, end = at_least(samples, events / 2), at_least(samples, events)
    half = samples[mid : end + 1]
    xs, ys = [s.predicted for s in half], [s.rss_mib[name] for s in half]
    slope = statistics.linear_regression(xs, ys).slope if len(set(xs)) >= 2 else 0.0
    fitted_growth = slope * (xs[-1] - xs[0])
    rss_mid = samples[mid].rss_mib[name]
    return {
        "peak_rss_mib": peak,
        "max_sampled_rss_mib": max(s.rss_mib[name] for s in samples),
        "rss_at_midpoint_mib": rss_mid,
        "rss_at_end_mib": samples[end].rss_mib[name],
        "second_half_growth_mib": round(samples[end].rss_mib[name] - rss_mid, 1),
        "slope_mib_per_100k_events": round(slope * 100_000, 2),
        "fitted_second_half_growth_mib": round(fitted_growth, 1),
        "flat": fitted_growth < FLAT_SHARE * rss_mid,
        "rss_by_tenth_mib": [
            samples[at_least(samples, events * k / 10)].rss_mib[name] for k in range(1, 11)
        ],
    }


def series(samples: Sequence[Sample]) -> dict[str, Any]:
    """At most ``SERIES_POINTS`` samples, evenly spaced (the last one kept), by column."""
    step = max(1, math.ceil(len(samples) / SERIES_POINTS))
    kept = [*samples[::step], *([samples[-1]] if (len(samples) - 1) % step else [])]
    return {
        "seconds": [round(s.seconds, 1) for s in kept],
        "produced": [s.produced for s in kept],
        "predicted": [s.predicted for s in kept],
        "rss_mib": {name: [s.rss_mib[name] for s in kept] for name in kept[0].rss_mib},
    }


async def bench(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    model = await prepare(session, args.train_rows)
    children = session.processes.children
    pids = {**{n: children[n].pid for n in SERVICES}, **session.infra_pids}
    soak = Soak(session, args.events, args.max_lag, args.rate or math.inf, pids)
    run = await run_soak(soak, session.sampler())
    peaks = {name: memory_of(pid)["peak_rss_mib"] for name, pid in pids.items()}
    memory = {
        name: memory_figures(soak.samples, name, soak.events, peaks[name])
        for name in (*SERVICES, *(n for n in CONTEXT if n in pids))
    }
    judged = [memory[name] for name in SERVICES]
    return {
        "benchmark": "soak",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": soak.events,
        "predictions_seen": soak.progress.predicted,
        "dataset": DATASET,
        "cards": CARDS,
        "partitions": PARTITIONS,
        "max_lag": soak.max_lag,
        "offered_per_s": args.rate,
        "model": model,
        **run,
        "memory": memory,
        "flat_definition": f"fitted second-half growth < {FLAT_SHARE:.0%} of the midpoint RSS",
        "targets": {
            f"peak_rss_under_{PEAK_TARGET_MIB:.0f}_mib": all(
                m["peak_rss_mib"] < PEAK_TARGET_MIB for m in judged
            ),
            "flat_over_second_half": all(m["flat"] for m in judged),
        },
        "service_stats": soak.stats,
        "series": series(soak.samples),
        "service_env": session.extra_env,
        "versions": versions(),
        "cpus": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> str:
    """The memory table, the run's rate and cores, and the targets."""
    header = ("process", "peak MiB", "mid MiB", "end MiB", "2nd half Δ", "MiB/100k", "flat")
    rows: list[Sequence[str]] = [header]
    for name, m in result["memory"].items():
        judged = name in SERVICES
        rows.append(
            (
                name if judged else f"{name} (context)",
                f"{m['peak_rss_mib']:.0f}",
                f"{m['rss_at_midpoint_mib']:.0f}",
                f"{m['rss_at_end_mib']:.0f}",
                f"{m['second_half_growth_mib']:+.1f}",
                f"{m['slope_mib_per_100k_events']:+.2f}",
                str(m["flat"]) if judged else "-",
            )
        )
    used = ", ".join(f"{n} {c:.2f}" for n, c in result["cpu_cores"].items())
    return "\n".join(
        [
            *table(rows),
            f"{result['events']:,} events in {result['seconds']:,} s "
            f"({result['events_per_s']:,}/s through all three); cores used: {used}",
            f"flat: {result['flat_definition']}",
            f"targets: {result['targets']}",
        ]
    )


def run(args: argparse.Namespace) -> None:
    """``bench`` on an embedded stack; the services stopped by id before the stack."""
    processes = Processes()
    extra = dict(item.split("=", 1) for item in args.service_env)

    def on_stack(stack: Stack) -> dict[str, Any]:
        session = Session(stack.env, stack.infra_pids, processes, stack.work, extra, 0, stack.say)
        try:
            return asyncio.run(bench(session, args))
        finally:
            processes.stop_all()

    run_on_stack(on_stack, args.results, report, keep=args.keep)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a soak of the hot path: RSS per service")
    parser.add_argument("--events", type=int, default=1_000_000, help="raw events to send")
    parser.add_argument("--train-rows", type=int, default=10_000, help="transactions to fit on")
    parser.add_argument(
        "--max-lag", type=int, default=10_000, help="most events sent and not yet predicted"
    )
    parser.add_argument("--rate", type=float, default=None, help="most events/s (default: none)")
    parser.add_argument("--quick", action="store_true", help="50,000 events, to try the script")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the services, for experiments; recorded in the results",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.train_rows = 50_000, 5_000
    if args.events < 10_000 or args.max_lag < CHUNK or args.train_rows < 1_000:
        parser.error(f"--events: at least 10,000; --max-lag: at least {CHUNK}; --train-rows: 1,000")
    if not all("=" in item for item in args.service_env):
        parser.error("--service-env: NAME=VALUE")
    run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
