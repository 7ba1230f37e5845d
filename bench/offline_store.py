"""The offline store as it grows: rows and labels per second into it, and the time to read a
training window, at every ``--step`` rows from 0 to ``--rows`` (1,000,000).

The script starts the embedded broker and store (``LocalStack``, infra only, in a temporary
folder, as the other benchmarks do; the broker stays idle) and writes through the library the
feature service uses: ``driftloop_offline.OfflineWriter`` on PyMongo's ``AsyncMongoClient``
(``create_mongo_client`` and ``open_database`` with the store's indexes), in this process.

The stream: card transactions one second apart in event time (1,000 cards), each served as a
``FeaturesComputed`` vector of the fraud spec's 16 columns (``specs/fraud.yaml``), and each
labelled by an ``OutcomeValidated`` that arrives ``--label-lag`` (1,000) events later and is
stamped that much later in event time (2% of them fraud). The writers take batches of
``--batch`` (500) as the feature service's two writers do: a batch of rows (``add_rows``), then
the batch of labels that has arrived meanwhile (``add_labels``, then ``expire_labels`` as the
labels handler does, with the service's default wait of 7 days), one after the other; with
``--concurrent`` the two run at the same time on the one client, as the two subscribers of one
feature process would with a backlog. Each step's vectors and outcomes are built (from one
template each, ``model_copy``) before the step is timed; that time is reported apart.

Per step: rows/s and labels/s over the wall clock of the step's writes (both writers, so the
two rates are what the store sustains with a label per row), each writer's own rate (over the
time spent in its calls), the cores the store, the broker and this process used, and their CPU
time per row (with its label), which others on the machine change far less than rates. After
each step, with the writers idle: ``OfflineReader.window`` over a span that holds the newest
``--window`` (100,000) labelled rows (plus the ``--label-lag`` newest rows, not labelled yet),
its seconds and rows/s; and ``count_labelled`` from the point that has 500 labelled rows after
it (the spec's ``min_labelled_rows``), as the trainer asks before a run.

Targets (the issue's): rows and labels at least 2,000/s in every step; flat (the last step's
rate within 20% of the first's, either way); the window of 100,000 joined rows read in under
10 s (``None`` when the run is too small to hold one).

``--uri-options`` adds options to the client's connection string, for experiments. The client
asks for no retryable writes, as the feature service's does (see docs/benchmarks.md).

    uv run python -m bench.offline_store            # 1,000,000 rows (~4 minutes on 2 cores)
    uv run python -m bench.offline_store --quick    # 100,000 rows, steps of 20,000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

import driftloop_offline
from bench import harness
from bench.offline_inputs import GAP, START, Stream, label_rows, window_span
from bench.processes import CpuSampler, Processes, memory_of
from bench.runtime_relay import table
from driftloop_contracts import FeaturesComputed, OutcomeValidated
from driftloop_offline import INDEXES, LabelJoin, OfflineReader, OfflineWriter
from driftloop_runtime import RuntimeSettings, create_mongo_client, open_database
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec, load_spec

__all__ = ["Sizes", "flat", "last_to_first", "main", "per_second", "rates_of", "targets"]

SPEC = harness.REPO / "specs" / "fraud.yaml"
DATABASE = "bench_offline_store"
RESULTS = Path(__file__).parent / "results" / "offline_store.json"
LABEL_WAIT = timedelta(days=7)  # the feature service's default (DRIFTLOOP_LABEL_WAIT_S)
COUNTED = 500  # labelled rows after the since-point of count_labelled: min_labelled_rows
RATE_TARGET = 2_000.0
FLAT_WITHIN = 0.2
WINDOW_TARGET_ROWS, WINDOW_TARGET_S = 100_000, 10.0


@dataclass(frozen=True)
class Sizes:
    """How much the run writes and reads (the command line's choices)."""

    rows: int
    step: int
    batch: int
    label_lag: int
    window: int
    concurrent: bool


def per_second(count: int, seconds: float) -> int:
    """``count`` per second, rounded; 0 when nothing took any time (a step without labels)."""
    return round(count / seconds) if seconds > 0 else 0


def last_to_first(rates: Sequence[float]) -> float | None:
    """The last rate over the first (``None``: fewer than two, or the first is 0)."""
    if len(rates) < 2 or rates[0] <= 0:
        return None
    return rates[-1] / rates[0]


def flat(rates: Sequence[float], within: float = FLAT_WITHIN) -> bool | None:
    """Whether the last rate is within ``within`` of the first, either way (``None``: not
    measurable, see ``last_to_first``)."""
    ratio = last_to_first(rates)
    return None if ratio is None else abs(ratio - 1) <= within


def rates_of(steps: Sequence[dict[str, Any]], what: str) -> list[float]:
    """The rate of ``what`` (rows, labels) of each step that wrote any (labels come
    ``--label-lag`` late, so the first steps of a small run may have none)."""
    return [s[f"{what}_per_s"] for s in steps if s[what]]


def targets(steps: Sequence[dict[str, Any]], read: dict[str, Any] | None) -> dict[str, Any]:
    """The issue's targets: met or not (never asserted); ``None``: not measurable here."""
    rows, labels = rates_of(steps, "rows"), rates_of(steps, "labels")
    window = None
    if read is not None and read["rows"] >= WINDOW_TARGET_ROWS:
        window = read["seconds"] < WINDOW_TARGET_S
    return {
        "rows_at_least_2000_per_s": min(rows) >= RATE_TARGET,
        "labels_at_least_2000_per_s": min(labels) >= RATE_TARGET if labels else None,
        "rows_flat_within_20%": flat(rows),
        "labels_flat_within_20%": flat(labels),
        "window_100000_under_10_s": window,
    }


@dataclass
class Writers:
    """The feature service's two writers on one store, timed call by call."""

    store: OfflineWriter
    concurrent: bool
    seconds: dict[str, float]

    async def rows(self, vectors: list[FeaturesComputed]) -> None:
        began = time.perf_counter()
        await self.store.add_rows(vectors, datetime.now(UTC))
        self.seconds["add_rows"] += time.perf_counter() - began

    async def labels(self, outcomes: list[OutcomeValidated]) -> None:
        if not outcomes:
            return
        began, now = time.perf_counter(), datetime.now(UTC)
        await self.store.add_labels(outcomes, now)
        expiring = time.perf_counter()
        await self.store.expire_labels(now)  # as the labels handler does after each batch
        self.seconds["add_labels"] += expiring - began
        self.seconds["expire_labels"] += time.perf_counter() - expiring

    async def batch(
        self, vectors: list[FeaturesComputed], outcomes: list[OutcomeValidated]
    ) -> None:
        if self.concurrent:
            await asyncio.gather(self.rows(vectors), self.labels(outcomes))
        else:
            await self.rows(vectors)
            await self.labels(outcomes)


async def write_step(
    store: OfflineWriter, stream: Stream, rows: range, sizes: Sizes, cpu: CpuSampler
) -> dict[str, Any]:
    """Write the rows of ``rows`` and the labels that arrive with them, batch by batch."""
    began = time.perf_counter()
    batches = []
    for first in range(rows.start, rows.stop, sizes.batch):
        served = range(first, min(first + sizes.batch, rows.stop))
        batches.append(
            (stream.vectors(served), stream.outcomes(label_rows(served, sizes.label_lag)))
        )
    generated = time.perf_counter()
    writers = Writers(
        store, sizes.concurrent, dict.fromkeys(("add_rows", "add_labels", "expire_labels"), 0.0)
    )
    for vectors, outcomes in batches:
        await writers.batch(vectors, outcomes)
    ended = time.perf_counter()
    seconds, labels = ended - generated, sum(len(o) for _, o in batches)
    spent, cores = writers.seconds, cpu.cores(generated, ended)
    return {
        "rows_in_store": rows.stop,
        "rows": len(rows),
        "labels": labels,
        "seconds": round(seconds, 3),
        "rows_per_s": per_second(len(rows), seconds),
        "labels_per_s": per_second(labels, seconds),
        "add_rows_per_s": per_second(len(rows), spent["add_rows"]),
        "add_labels_per_s": per_second(labels, spent["add_labels"] + spent["expire_labels"]),
        "seconds_in": {name: round(s, 3) for name, s in spent.items()},
        "generate_seconds": round(generated - began, 3),
        "cpu_cores": cores,
        # CPU time per row written (and its label): far less sensitive to others on the cores
        "cpu_us_per_row": {
            name: round(cores[name] * seconds / len(rows) * 1e6)
            for name in ("store", "client")
            if name in cores
        },
    }


async def read_step(
    database: AsyncDatabase[Document],
    spec: DatasetSpec,
    rows_in_store: int,
    sizes: Sizes,
    cpu: CpuSampler,
) -> dict[str, Any] | None:
    """The training window of the newest ``--window`` labelled rows, and a count of 500."""
    labelled = min(sizes.window, rows_in_store - sizes.label_lag)
    if labelled < 1:
        return None
    columns, join = spec.feature_columns(), LabelJoin.of(spec.lateness)
    reader = OfflineReader(database, max_rows=labelled)
    began = time.perf_counter()
    frame = await reader.window(spec.name, columns, join, window_span(labelled, sizes.label_lag))
    read = time.perf_counter()
    since = START + (rows_in_store - sizes.label_lag - COUNTED) * GAP
    counted = await reader.count_labelled(spec.name, columns, join, since=since, up_to=COUNTED)
    ended = time.perf_counter()
    return {
        "rows_expected": labelled,
        "rows": len(frame),
        "seconds": round(read - began, 3),
        "rows_per_s": per_second(len(frame), read - began),
        "cpu_cores": cpu.cores(began, read),
        "count_labelled": {"counted": counted, "up_to": COUNTED, "seconds": round(ended - read, 3)},
    }


async def bench(stack: harness.Stack, sizes: Sizes, uri_options: str) -> dict[str, Any]:
    spec = load_spec(SPEC)
    stream = Stream(spec, sizes.label_lag)
    uri = stack.env["DRIFTLOOP_MONGO_URI"] + (f"/?{uri_options}" if uri_options else "")
    settings = RuntimeSettings(mongo_uri=uri, mongo_database=DATABASE)
    cpu = CpuSampler({**stack.infra_pids, "client": os.getpid()}, Processes())
    sampling = asyncio.create_task(cpu.run())
    steps: list[dict[str, Any]] = []
    # as the feature service's writers do
    async with create_mongo_client(
        settings, appname="bench-offline-store", retry_writes=False
    ) as client:
        database = await open_database(client, settings, INDEXES)
        store = OfflineWriter(database, label_wait=LABEL_WAIT)
        for first in range(0, sizes.rows, sizes.step):
            rows = range(first, min(first + sizes.step, sizes.rows))
            step = await write_step(store, stream, rows, sizes, cpu)
            step["read"] = await read_step(database, spec, rows.stop, sizes, cpu)
            steps.append(step)
            stack.say(summary(step))
    sampling.cancel()
    read = steps[-1]["read"]
    rates = {name: rates_of(steps, name) for name in ("rows", "labels")}
    return {
        "benchmark": "offline_store",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": {f.name: getattr(sizes, f.name) for f in fields(Sizes)},
        "uri_options": uri_options,
        "dataset": spec.name,
        "columns": len(spec.feature_columns()),
        "steps": steps,
        "window": read,
        "targets": targets(steps, read),
        "last_to_first": {
            name: None if (ratio := last_to_first(of)) is None else round(ratio, 2)
            for name, of in rates.items()
        },
        "store_memory": memory_of(stack.infra_pids["store"]),
        "store_disk_mib": round(disk_bytes(stack.work / "stack") / 2**20),
        "offline_library_sha256": library_digest(),
        "versions": {
            "python": sys.version.split()[0],
            **{name: version(name) for name in ("pymongo", "secantusdb", "numpy", "pandas")},
        },
        "cpus": os.cpu_count(),
    }


def library_digest() -> str:
    """A digest of ``driftloop_offline``'s source: which store the run measured (the tree may
    hold changes that are not committed)."""
    sources = sorted(Path(driftloop_offline.__file__).parent.glob("*.py"))
    return sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]


def disk_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def summary(step: dict[str, Any]) -> str:
    read = step["read"]
    window = "" if read is None else f"; window of {read['rows']:,} read in {read['seconds']} s"
    return (
        f"{step['rows_in_store']:,} rows: {step['rows_per_s']:,} rows/s, "
        f"{step['labels_per_s']:,} labels/s{window}"
    )


def report(result: dict[str, Any]) -> str:
    """A line per step: write rates, each writer's own, cores, then the reads; the targets."""
    header: tuple[str, ...] = ("rows in store", "rows/s", "labels/s", "add_rows/s", "add_labels/s")
    header += ("gen s", "cores store/client/others", "CPU µs/row store/client")
    header += ("window rows", "read s", "read rows/s")
    header += ("count 500 s",)
    lines: list[tuple[str, ...]] = [header]
    for step in result["steps"]:
        cores, read = step["cpu_cores"], step["read"] or {}
        lines.append(
            (
                f"{step['rows_in_store']:,}",
                *(
                    f"{step[k]:,}"
                    for k in ("rows_per_s", "labels_per_s", "add_rows_per_s", "add_labels_per_s")
                ),
                f"{step['generate_seconds']:.1f}",
                "/".join(f"{cores.get(name, 0):.2f}" for name in ("store", "client", "others")),
                "/".join(f"{step['cpu_us_per_row'].get(n, 0)}" for n in ("store", "client")),
                f"{read.get('rows', 0):,}",
                f"{read.get('seconds', 0):.2f}",
                f"{read.get('rows_per_s', 0):,}",
                f"{read['count_labelled']['seconds']:.3f}" if read else "-",
            )
        )
    out = table(lines)
    memory, disk = result["store_memory"]["peak_rss_mib"], result["store_disk_mib"]
    out.append(f"store: {memory:.0f} MiB peak RSS, {disk:,} MiB on disk")
    ratio = result["last_to_first"]
    out.append(f"last step / first step: rows {ratio['rows']}, labels {ratio['labels']}")
    out.append(f"targets: {result['targets']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the offline store as it grows")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows written in all")
    parser.add_argument("--step", type=int, default=100_000, help="rows between two reports")
    parser.add_argument("--batch", type=int, default=500, help="vectors (and labels) per write")
    parser.add_argument("--label-lag", type=int, default=1_000, help="events a label comes late")
    parser.add_argument("--window", type=int, default=100_000, help="labelled rows read at once")
    parser.add_argument("--concurrent", action="store_true", help="the two writers at once")
    parser.add_argument("--quick", action="store_true", help="100,000 rows in steps of 20,000")
    parser.add_argument(
        "--uri-options",
        default="",
        metavar="NAME=VALUE[&...]",
        help="connection string options of the writers' and reader's client, for experiments "
        "(e.g. retryWrites=false); recorded in the results",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.step = 100_000, 20_000
    if not 1 <= args.batch <= args.step <= args.rows or args.label_lag < 0 or args.window < 1:
        parser.error("need 1 <= --batch <= --step <= --rows, --label-lag >= 0, --window >= 1")
    sizes = Sizes(**{f.name: getattr(args, f.name) for f in fields(Sizes)})

    def run(stack: harness.Stack) -> dict[str, Any]:
        return asyncio.run(bench(stack, sizes, args.uri_options))

    harness.run_on_stack(run, RESULTS, report, keep=args.keep)


if __name__ == "__main__":
    main(sys.argv[1:])
