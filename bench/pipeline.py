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
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    Session,
    add_options,
    bare_loop_rounds,
    contender,
    count_rows,
    get_json,
    mean_bytes,
    run_session,
    throughput_table,
)
from bench.latency import DRAIN_TIMEOUT_S, measure_latency
from bench.processes import timed_process
from bench.runtime_relay import PARTITIONS, Run, produce, unique, versions
from driftloop_cli.simulation import CardTransactions
from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    FEATURES_TOPIC,
    SPECS_TOPIC,
)
from tests.integration.feature.stream import fraud_spec, publish

__all__ = ["main"]

DATASET = "fraud"
CARDS = 1_000
DATABASE = "bench_pipeline"
LATENCY_EVENTS = 20_000
LOAD = 0.5  # offered rate in the latency phase, as a fraction of the two services' capacity
RESULTS = Path(__file__).parent / "results" / "pipeline.json"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


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


async def bench(
    session: Session, *, events: int, latency_events: int, load: float, rate: float | None
) -> dict[str, Any]:
    options, processes, say = session.options, session.processes, session.say
    _, applied = fraud_spec(DATASET)
    stream = CardTransactions(dataset=DATASET, cards=CARDS, start=START)
    say(f"producing {events:,} raw events and the fraud spec")
    await publish(options["bootstrap_servers"], SPECS_TOPIC, [applied])
    await produce(options, DATA_TOPIC, [t.event for t in stream.take(events)])
    service_env = session.service_env(DATABASE, consumer_group=unique("feature"))

    cpu = session.sampler()
    sampling = asyncio.create_task(cpu.run())
    bare_loops = await bare_loop_rounds(session, DATA_TOPIC, events)
    baseline = bare_loops.median

    say("ingestion")
    ingestion, ingestion_end = await timed_process(
        options,
        DATA_VALIDATED_TOPIC,
        events,
        processes,
        session.service("ingestion", "driftloop_ingestion", service_env),
    )
    say(f"  {ingestion.per_second:,.0f} events/s")

    say("feature")
    rows: list[tuple[float, int]] = []
    counting = asyncio.create_task(
        count_rows(session.env["DRIFTLOOP_MONGO_URI"], DATABASE, events, rows)
    )
    feature, feature_end = await timed_process(
        options,
        FEATURES_TOPIC,
        events,
        processes,
        session.service("feature", "driftloop_feature", service_env),
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
    latency = await measure_latency(
        options,
        paced,
        rate,
        source=DATA_TOPIC,
        outputs={"validated": DATA_VALIDATED_TOPIC, "vector": FEATURES_TOPIC},
    )
    latency_cores = cpu.cores(latency_start, time.perf_counter())
    sampling.cancel()

    feature_start = feature_end - feature.steady_seconds

    def cores(run: Run, end: float) -> dict[str, Any]:
        return {"cpu_cores": cpu.cores_of(run, end)}

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
        "bare_loop": bare_loops.figures(cpu),
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
        "service_env": session.extra_env,
        "versions": versions(),
        "cpus": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> str:
    """The table of the throughput phase, the offline store's rate and the latency figures."""
    lat = result["latency"]
    e2e, stage = lat["publish_to_vector"], lat["publish_to_validated"]
    store = result["offline_store"]
    used = ", ".join(f"{name} {cores:.2f}" for name, cores in lat["cpu_cores"].items())
    return "\n".join(
        [
            *throughput_table(result, ("bare_loop", "ingestion", "feature")),
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
    add_options(parser)
    args = parser.parse_args(argv)
    if args.events < 2_000:
        parser.error("--events: at least 2,000, or the bare loop is over before it is measured")
    if args.latency_events < 100 or not 0 < args.load < 1:
        parser.error("--latency-events: at least 100; --load: between 0 and 1")

    async def run(session: Session) -> dict[str, Any]:
        return await bench(
            session,
            events=args.events,
            latency_events=args.latency_events,
            load=args.load,
            rate=args.rate,
        )

    run_session(parser, args, run, RESULTS, report)


if __name__ == "__main__":
    main(sys.argv[1:])
