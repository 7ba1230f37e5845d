"""What the service benchmarks (``bench.pipeline``, ``bench.scoring``) and the store's
(``bench.offline_store``) share.

- ``run_session`` and ``Session``: the embedded broker and store started in a temporary folder
  (``LocalStack``, infra only; stopped by the process ids it recorded), the processes a run
  starts (``bench.processes``; stopped by id before the broker and store), the shared
  command-line options (``--bare-rounds``, ``--profile``, ``--service-env``, ``--keep``), the
  results file. ``run_on_stack`` is its part without services or options (``bench.offline_store``
  uses it directly).
- ``bare_loop_rounds``: the bare aiokafka loop (``bench.bare_loop``, a process of its own) timed
  like a service, a few times, for the median that services are compared with.
- Figures: a contender's rates, mean record sizes, the offline store's rows, a text table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bench.processes import PY_SPY, Command, CpuSampler, Processes, launch, timed_process, watch
from bench.runtime_relay import Run, median_run, new_topics, rate_cells, reader, table, unique
from driftloop_cli.local import LocalStack
from driftloop_offline import OfflineReader

__all__ = [
    "REPO",
    "BareLoops",
    "Session",
    "Stack",
    "add_options",
    "bare_loop_rounds",
    "contender",
    "count_rows",
    "get_json",
    "mean_bytes",
    "run_on_stack",
    "run_session",
    "start_service",
    "throughput_table",
]

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Session:
    """What a benchmark run works with: the stack's settings, its processes, a folder."""

    env: dict[str, str]  # DRIFTLOOP_KAFKA_BOOTSTRAP and DRIFTLOOP_MONGO_URI of the stack
    infra_pids: dict[str, int]  # the broker's and the store's process ids, by name
    processes: Processes
    work: Path  # the temporary folder: service logs, traces
    extra_env: dict[str, str]  # --service-env
    bare_rounds: int
    say: Callable[[str], None]

    @property
    def options(self) -> dict[str, Any]:
        """aiokafka client options that reach the broker."""
        return {"bootstrap_servers": self.env["DRIFTLOOP_KAFKA_BOOTSTRAP"]}

    def service_env(self, database: str, **settings: str) -> dict[str, str]:
        """The environment of a service process: the stack, ``database``, this checkout on the
        path, ``settings`` (``consumer_group="x"`` sets ``DRIFTLOOP_CONSUMER_GROUP``) and
        --service-env last."""
        named = {f"DRIFTLOOP_{name.upper()}": value for name, value in settings.items()}
        return {
            **self.env,
            "DRIFTLOOP_MONGO_DATABASE": database,
            "PYTHONPATH": str(REPO),
            **named,
            **self.extra_env,
        }

    def service(self, name: str, module: str, env: dict[str, str]) -> Command:
        """``python -m module`` as ``name``, its log and its traces file in the work folder."""
        traces = {"DRIFTLOOP_TRACES_FILE": str(self.work / f"{name}.traces.jsonl")}
        argv = [sys.executable, "-m", module]
        return Command(name, argv, {**env, **traces}, self.work / f"{name}.log")

    def sampler(self) -> CpuSampler:
        return CpuSampler({**self.infra_pids, "observer": os.getpid()}, self.processes)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options every service benchmark has."""
    parser.add_argument(
        "--bare-rounds", type=int, default=3, help="bare loop runs; the median one is compared"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="folder for py-spy's folded stacks of each contender's throughput phase "
        "(needs py-spy in the venv; slows the contenders: not for the reference figures)",
    )
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the services, for experiments (e.g. "
        "OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.01); recorded in the results",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")


def run_session(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    bench: Callable[[Session], Coroutine[Any, Any, dict[str, Any]]],
    results: Path,
    report: Callable[[dict[str, Any]], str],
) -> None:
    """Check the shared options, run ``bench`` on an embedded stack, write and print the
    results; everything started is stopped by process id, whatever happens."""
    if args.bare_rounds < 1:
        parser.error("--bare-rounds: at least 1")
    if not all("=" in item for item in args.service_env):
        parser.error("--service-env: NAME=VALUE")
    if args.profile is not None and PY_SPY is None:
        parser.error("--profile: py-spy not found; `uv pip install py-spy` first")
    processes = Processes(profile=args.profile)
    extra = dict(item.split("=", 1) for item in args.service_env)

    def run(stack: Stack) -> dict[str, Any]:
        session = Session(
            stack.env, stack.infra_pids, processes, stack.work, extra, args.bare_rounds, stack.say
        )
        try:
            return asyncio.run(bench(session))
        finally:
            processes.stop_all()  # the services, before the broker and store they use

    run_on_stack(run, results, report, keep=args.keep)


@dataclass(frozen=True)
class Stack:
    """The embedded stack a run works with, a temporary folder and a timestamped printer."""

    env: dict[str, str]  # DRIFTLOOP_KAFKA_BOOTSTRAP and DRIFTLOOP_MONGO_URI of the stack
    infra_pids: dict[str, int]  # the broker's and the store's process ids, by name
    work: Path
    say: Callable[[str], None]


def run_on_stack(
    run: Callable[[Stack], dict[str, Any]],
    results: Path,
    report: Callable[[dict[str, Any]], str],
    *,
    keep: bool = False,
) -> None:
    """Run ``run`` on an embedded stack in a temporary folder (removed unless ``keep``), then
    add the wall time and load average to its results, write them to ``results`` and print
    ``report`` of them; the stack is stopped by process id, whatever happens."""
    results.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"driftloop-bench-{results.stem}-"))
    began, load_before = time.monotonic(), os.getloadavg()[0]

    def say(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {message}", flush=True)

    try:
        with embedded_stack(work) as (env, infra_pids):
            result = run(Stack(env, infra_pids, work, say))
    finally:
        if keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["wall_seconds"] = round(time.monotonic() - began, 1)
    # how busy the machine was with everything else as well: >2 on 2 cores means queueing
    result["load_average_1m"] = {"start": load_before, "end": os.getloadavg()[0]}
    results.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"written to {results}")


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


async def start_service(session: Session, command: Command) -> None:
    """Start a service (not profiled) and wait until it answers /healthz."""
    launch(session.processes, command, profiled=False)
    await watch(session.processes, command, http=True, timing=None)


@dataclass(frozen=True)
class BareLoops:
    """The bare loop's rounds: each run and when its N-th output was seen."""

    runs: list[tuple[Run, float]]

    @property
    def median(self) -> Run:
        return median_run([run for run, _ in self.runs])

    def figures(self, cpu: CpuSampler) -> dict[str, Any]:
        """The median round's figures, every round's rate, and the cores used in that round."""
        median = self.median
        number, end = next((n, end) for n, (run, end) in enumerate(self.runs, 1) if run is median)
        return {
            **contender(median, None),
            "median_of_rounds": len(self.runs),
            "events_per_s_by_round": [round(run.per_second) for run, _ in self.runs],
            "cpu_cores": {
                ("bare_loop" if name == f"bare_loop_{number}" else name): used
                for name, used in cpu.cores_of(median, end).items()
            },
        }


async def bare_loop_rounds(session: Session, source: str, events: int) -> BareLoops:
    """The bare loop (``bench.bare_loop``, a process of its own) relaying the first ``events``
    records of ``source`` to a new topic, ``session.bare_rounds`` times (new group each)."""
    # the bare loop is over in ~2 s, which makes a single round noisy: the median of a few
    runs: list[tuple[Run, float]] = []
    options = session.options
    for round_ in range(1, session.bare_rounds + 1):
        session.say(f"bare loop, round {round_} of {session.bare_rounds}")
        sink = unique("bare-loop-out")
        await new_topics(options, sink)
        name = f"bare_loop_{round_}"
        argv = [sys.executable, "-m", "bench.bare_loop", options["bootstrap_servers"]]
        argv += [source, sink, str(events)]
        env = {**session.env, "PYTHONPATH": str(REPO)}
        command = Command(name, argv, env, session.work / f"{name}.log")
        runs.append(
            await timed_process(options, sink, events, session.processes, command, http=False)
        )
        session.say(f"  {runs[-1][0].per_second:,.0f} events/s")
    return BareLoops(runs)


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


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


async def mean_bytes(options: dict[str, Any], topic: str, sample: int = 2_000) -> int:
    """The mean value size of the first ``sample`` records of ``topic``."""
    async with reader(options, [topic]) as consumer:
        sizes: list[int] = []
        while len(sizes) < sample:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches:
                break
            sizes += [len(r.value) for records in batches.values() for r in records]
        return round(sum(sizes) / len(sizes)) if sizes else 0


async def count_rows(
    uri: str, database: str, expect: int, samples: list[tuple[float, int]]
) -> None:
    """Sample (``perf_counter``, rows) of the offline store until it holds ``expect`` rows."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        store = OfflineReader(client[database], max_rows=1)
        while not samples or samples[-1][1] < expect:
            samples.append((time.perf_counter(), await store.stored_rows()))
            await asyncio.sleep(0.25)
    finally:
        await client.close()


def throughput_table(result: dict[str, Any], names: Sequence[str]) -> list[str]:
    """The throughput phase of ``names``: counted events, seconds, rate, start-up, share of the
    bare loop, peak RSS, and the cores used by each, the broker, the store and the observer."""
    header = ("contender", "events", "seconds", "events/s", "start-up s", "/ bare")
    rows = [(*header, "peak RSS MiB", "cores: self/broker/store/observer")]
    for name in names:
        r = result[name]
        used = r["cpu_cores"]
        rows.append(
            (
                name,
                *rate_cells(r),
                f"{r['ratio_to_bare_loop']:.2f}" if "ratio_to_bare_loop" in r else "1",
                f"{r['peak_rss_mib']:.0f}" if "peak_rss_mib" in r else "-",
                "/".join(f"{used.get(p, 0):.2f}" for p in (name, "broker", "store", "observer")),
            )
        )
    return table(rows)
