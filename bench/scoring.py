"""The scorer under load: throughput against the bare aiokafka loop, end-to-end latency from a
data event to its prediction, and the latency of a model swap, in one run.

The script starts the embedded broker and store itself (``LocalStack``, infra only, in a
temporary folder; stopped at the end by the process ids it recorded) and applies the fraud spec
(``specs/fraud.yaml``, dataset ``fraud``) with a ``spec applied`` event. It draws card
transactions from ``driftloop_cli.simulation.CardTransactions``, computes their features with
``driftloop_features.compute_features`` and fits the spec's estimator (HistGradientBoosting
with the spec's parameters) on the first ``--train-rows`` of them, in this process, on a numpy
matrix as the trainer does; versions 1 to 4 are each fitted on their own 90% draw. Each is
encoded (skops) and put into the store's GridFS (``driftloop_artifacts``), and version 1 is
promoted to champion with a ``ModelPromoted`` event carrying its ``artifact_uri`` and
``artifact_sha256``.

Throughput (the method of ``bench.runtime_relay`` and ``bench.pipeline``): the next N
transactions' vectors are produced to ``driftloop.features.v1`` as ``FeaturesComputed`` events,
as the feature service publishes them. The bare loop (``bench.bare_loop``, a process of its own)
relays them to a topic of its own, median of ``--bare-rounds``; then the scorer (``python -m
driftloop_scorer``) starts in a new consumer group, loads the champion and scores them to
``driftloop.predictions.v1``. An observer in this process reads the output topic from its start;
the rate counts from its first fetch that returned outputs to the N-th output; the ratio to the
bare loop is the figure (the issue's target is 0.5). Ingestion and the feature service are
started before this phase and stay idle during it (the feature service's offline-store writer
is committed past the N vectors first: they are not rows that service served).

End-to-end latency: all six services running (each a process of its own, same database, own
consumer groups), caught up: the registry, the monitor and the trainer are started for these
phases (the monitor past the predictions of the throughput phase; ``--hot-path-only`` leaves
the three out). A paced producer offers more transactions to
``driftloop.data.v1`` at ``--rate`` (1,000/s); the publish time of each is kept here by event
id and the observer notes when its validated event, its vector and its prediction (by
``subject_event_id``) first appear: percentiles from publish to each, the rate out, and
``kept_up`` (see ``bench.latency``). A second phase sends ``--saturation-events`` at once
(as fast as the producer takes them): the rate of predictions that came out is what the three
services sustain together here, and the latencies are mostly the queue. If the fixed rate did
not keep up, a third phase offers ``--load`` (50%) of the lower of the two rates that came out
(paced events come in small batches, which cost more per event than a burst's full ones).
Between phases the feature service's offline store is let catch up.

Swap latency: with transactions flowing at ``--swap-rate`` (200/s), versions 2, 3 and 4 (in the
store since the start) are promoted one after another, 3 s apart; each swap's latency is from
the moment just before its ``ModelPromoted`` is sent to the observer's first prediction by that
version. The observer also counts data events that got champion predictions of two different
versions.

Memory and CPU as in ``bench.pipeline``: each service's resident-set high-water mark at the
end, and the cores each process used while the scorer was counted, during each latency phase
and, idle, for 5 s before the first phase and after the last; with CPU per event, the whole
machine's CPU and its CPU pressure, to tell how much other work shared the cores.

``--profile DIR`` runs py-spy on the scorer during its throughput phase. With
``--service-env DRIFTLOOP_TRACE_SAMPLE_RATIO=r`` the pre-produced vectors' trace headers are
sampled at that ratio too, as ingestion's decision would reach them (by default all are, as
with the services' default ratio of 1).

    uv run python -m bench.scoring            # the full run (~3 minutes on 2 cores)
    uv run python -m bench.scoring --quick    # a short one, to try the script
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import Session
from bench.latency import (
    DRAIN_TIMEOUT_S,
    Latency,
    measure_latency,
    observe_outputs,
    paced_producer,
    percentiles,
)
from bench.processes import MACHINE, CpuSampler, timed_process
from bench.runtime_relay import PARTITIONS, new_producer, produce, reader, unique, versions
from bench.scoring_inputs import promotion, store_model, train, vectors
from driftloop_artifacts import StoredArtifact
from driftloop_cli.local.secrets import LocalSecrets
from driftloop_cli.simulation import CardTransactions
from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    FEATURES_TOPIC,
    MODELS_PROMOTED_TOPIC,
    PREDICTIONS_TOPIC,
    SPECS_TOPIC,
)
from driftloop_features import EntityWindows
from driftloop_monitor.inputs import INPUTS
from tests.integration.feature.stream import fraud_spec, publish

__all__ = ["main"]

DATASET = MODEL_NAME = "fraud"
CARDS = 1_000
DATABASE = "bench_scoring"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SWAP_VERSIONS = (2, 3, 4)
LOOP_REST = ("registry", "monitor", "trainer")  # started for the latency phases
SWAP_GAP_S = 3.0  # flow before the first swap and after each one
SWAP_TIMEOUT_S = 30.0
IDLE_S = 5.0  # idle CPU measured before the first phase and after the last
RESULTS = Path(__file__).parent / "results" / "scoring.json"
PATH = {
    "validated": DATA_VALIDATED_TOPIC,
    "vector": FEATURES_TOPIC,
    "prediction": PREDICTIONS_TOPIC,
}


@dataclass(frozen=True)
class Sizes:
    """How much each phase does (the command line's choices)."""

    events: int
    train_rows: int
    rate: float
    latency_events: int
    saturation_events: int
    load: float
    swap_rate: float
    whole_loop: bool


@dataclass
class Scenario:
    """A run's shared state: the session, its stream, the models stored so far."""

    session: Session
    sizes: Sizes
    stream: CardTransactions
    cpu: CpuSampler
    models: dict[int, StoredArtifact] = field(default_factory=dict)
    vectors_published: int = 0  # by the feature service so far: the offline store's rows to be

    async def promote(self, version: int) -> float:
        """Publish ``version``'s promotion to champion; return when (``perf_counter``) it was
        about to be sent."""
        previous = version - 1 if version > 1 else None
        event = promotion(DATASET, MODEL_NAME, version, self.models[version], previous)
        producer = new_producer(self.session.options)
        await producer.start()
        try:
            began = time.perf_counter()
            await producer.send_and_wait(
                MODELS_PROMOTED_TOPIC, event.model_dump_json().encode(), key=DATASET.encode()
            )
        finally:
            await producer.stop()
        return began

    async def offline_caught_up(self) -> None:
        """Wait until the feature service's offline store holds a row per vector published."""
        uri = self.session.env["DRIFTLOOP_MONGO_URI"]
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            await harness.count_rows(uri, DATABASE, self.vectors_published, [])


async def prepare(session: Session, sizes: Sizes) -> tuple[Scenario, dict[str, Any]]:
    """Spec applied, vectors on the features topic, ingestion and feature up, four models
    stored and version 1 promoted; returns the run and the model's figures."""
    options, say = session.options, session.say
    spec, applied = fraud_spec(DATASET)
    await publish(options["bootstrap_servers"], SPECS_TOPIC, [applied])
    stream = CardTransactions(dataset=DATASET, cards=CARDS, start=START)
    windows = EntityWindows()
    say(f"features of {sizes.train_rows:,} training and {sizes.events:,} scored transactions")
    rows = vectors(spec, applied.spec_version, stream.take(sizes.train_rows), windows)
    scored = vectors(spec, applied.spec_version, stream.take(sizes.events), windows)
    ratio = float(session.extra_env.get("DRIFTLOOP_TRACE_SAMPLE_RATIO", 1.0))
    await produce(options, FEATURES_TOPIC, scored.events, traceparents(len(scored.events), ratio))
    envs = {name: service_env(session, name) for name in ("ingestion", "feature")}
    await skip_offline_backlog(options, envs["feature"]["DRIFTLOOP_CONSUMER_GROUP"], sizes.events)
    run = Scenario(session, sizes, stream, session.sampler())
    say(f"starting ingestion and feature; fitting versions 1-{SWAP_VERSIONS[-1]} meanwhile")
    starting = asyncio.gather(
        *(
            harness.start_service(session, session.service(name, f"driftloop_{name}", env))
            for name, env in envs.items()
        )
    )
    fits = [await asyncio.to_thread(train, spec, rows, version) for version in (1, *SWAP_VERSIONS)]
    await starting
    uri = session.env["DRIFTLOOP_MONGO_URI"]
    for trained in fits:
        run.models[trained.version] = await store_model(uri, DATABASE, MODEL_NAME, trained)
    await run.promote(1)
    return run, {
        "estimator": spec.model.final.estimator,
        "params": spec.model.final.params,
        "train_rows": sizes.train_rows,
        "features": len(scored.events[0].feature_names),
        "fraud_share": round(float(rows.labels.mean()), 4),
        "fit_seconds": [round(f.fit_seconds, 2) for f in fits],
        "artifact_bytes": run.models[1].size,
    }


def traceparents(count: int, ratio: float) -> list[bytes]:
    """W3C trace headers as the feature service's vectors carry them when ingestion starts
    each trace and samples ``ratio`` of them (the scorer's spans follow that decision)."""
    rng = random.Random(5)
    return [
        f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-"
        f"{'01' if rng.random() < ratio else '00'}".encode()
        for _ in range(count)
    ]


async def skip_offline_backlog(options: dict[str, Any], group: str, vectors: int) -> None:
    """Commit the feature service's offline-store writer (its group + ``-offline``) past the
    ``vectors`` produced here: that feature service never served them, so they are not rows of
    its offline store (and writing them would keep it busy for minutes)."""
    async with reader(options, [FEATURES_TOPIC], group_id=f"{group}-offline") as consumer:
        seen = 0
        while seen < vectors:
            batches = await consumer.getmany(timeout_ms=500)
            seen += sum(len(records) for records in batches.values())
        await consumer.commit()


def service_env(session: Session, name: str) -> dict[str, str]:
    env = session.service_env(DATABASE, consumer_group=unique(name))
    if name in ("scorer", "trainer", "registry"):
        env |= LocalSecrets(*(secrets.token_urlsafe(32) for _ in range(3))).service_env()
    return env


async def throughput(run: Scenario) -> dict[str, Any]:
    """The bare loop's rounds, then the scorer started on the same vectors."""
    session, events = run.session, run.sizes.events
    bare_loops = await harness.bare_loop_rounds(session, FEATURES_TOPIC, events)
    session.say("scorer")
    scorer, scorer_end = await timed_process(
        session.options,
        PREDICTIONS_TOPIC,
        events,
        session.processes,
        session.service("scorer", "driftloop_scorer", service_env(session, "scorer")),
    )
    session.say(f"  {scorer.per_second:,.0f} events/s")
    figures = {
        "bare_loop": bare_loops.figures(run.cpu),
        "scorer": {
            **harness.contender(scorer, bare_loops.median),
            "cpu_cores": run.cpu.cores_of(scorer, scorer_end),
        },
    }
    for name, r in figures.items():
        r["cpu_us_per_event"] = cpu_per_event(r["cpu_cores"], r["events_per_s"])[name]
    bare, scored = (figures[n]["cpu_us_per_event"] for n in ("bare_loop", "scorer"))
    # the same ratio in CPU time per event: far less sensitive to others sharing the cores
    figures["scorer"]["cpu_ratio_to_bare_loop"] = round(bare / scored, 3) if scored else None
    return figures


def cpu_per_event(cores: dict[str, float], per_s: float) -> dict[str, int]:
    """Microseconds of CPU each process of the run spent per event;
    ``total``: all of them, what a dedicated machine would have to give per event."""
    ours = {n: c for n, c in cores.items() if n not in MACHINE}
    ours["total"] = sum(ours.values())
    return {n: round(c / per_s * 1e6) for n, c in ours.items()} if per_s > 0 else {}


async def latency_phase(run: Scenario, events: int, rate: float, name: str) -> dict[str, Any]:
    """``events`` more transactions offered at ``rate`` to ingestion → feature → scorer."""
    shown = "as fast as possible" if math.isinf(rate) else f"at {rate:,.0f}/s"
    run.session.say(f"latency, {name}: {events:,} events {shown}")
    paced = [t.event for t in run.stream.take(events)]
    began = time.perf_counter()
    figures = await measure_latency(
        run.session.options, paced, rate, source=DATA_TOPIC, outputs=PATH
    )
    figures["cpu_cores"] = run.cpu.cores(began, time.perf_counter())
    figures["cpu_us_per_event"] = cpu_per_event(figures["cpu_cores"], figures["predictions_per_s"])
    run.vectors_published += events
    e2e = figures["publish_to_prediction"]
    run.session.say(
        f"  p50 {e2e['p50_ms']} / p95 {e2e['p95_ms']} / p99 {e2e['p99_ms']} ms, "
        f"{figures['predictions_per_s']:,} predictions/s, kept up: {figures['kept_up']}"
    )
    await run.offline_caught_up()
    return figures


async def start_rest_of_loop(run: Scenario) -> None:
    """Registry, monitor and trainer, so that the latency phases run with all six services and
    the store, as in production. The monitor starts past what the throughput phase scored (a
    backlog that no production monitor would have)."""
    session = run.session
    envs = {name: service_env(session, name) for name in LOOP_REST}
    group = envs["monitor"]["DRIFTLOOP_CONSUMER_GROUP"]
    async with reader(session.options, list(INPUTS), from_start=False, group_id=group) as skip:
        await skip.commit({tp: await skip.position(tp) for tp in skip.assignment()})
    session.say(f"starting {', '.join(LOOP_REST)}: the latency phases run with all six")
    await asyncio.gather(
        *(
            harness.start_service(session, session.service(name, f"driftloop_{name}", env))
            for name, env in envs.items()
        )
    )


async def latencies(run: Scenario) -> dict[str, Any]:
    """At the fixed rate, at saturation, and (if the fixed rate was too much) at ``load`` of
    the capacity seen: the lower of the two rates that came out."""
    sizes = run.sizes
    if sizes.whole_loop:
        await start_rest_of_loop(run)
    fixed = await latency_phase(run, sizes.latency_events, sizes.rate, "fixed")
    saturation = await latency_phase(run, sizes.saturation_events, math.inf, "saturation")
    phases = {"fixed_rate": fixed, "saturation": saturation}
    if not fixed["kept_up"]:
        # a burst is scored in full batches; events paced in come in small ones, which cost
        # more per event, so what came out at the fixed rate bounds the capacity too
        capacity = min(saturation["predictions_per_s"], fixed["predictions_per_s"])
        sustained = await latency_phase(
            run, sizes.latency_events, sizes.load * capacity, "sustained"
        )
        phases["sustained"] = {"capacity_per_s": capacity, "load": sizes.load, **sustained}
    return phases


@dataclass
class Champions:
    """What the swap phase's observer saw of the champion's predictions."""

    versions: dict[str, list[int]] = field(default_factory=dict)  # data event → versions seen
    first: dict[int, float] = field(default_factory=dict)  # version → first seen
    seen: asyncio.Event = field(default_factory=asyncio.Event)  # set at every prediction

    def note(self, topic: str, value: dict[str, Any], now: float) -> None:
        if topic != PREDICTIONS_TOPIC or value.get("shadow"):
            return
        version = int(value["model_version"])
        self.versions.setdefault(value["subject_event_id"], []).append(version)
        self.first.setdefault(version, now)
        self.seen.set()

    def of(self, events: Iterable[str]) -> dict[str, int]:
        """Predictions of ``events``: how many, of how many events, how many events had more
        than one, and with two versions."""
        mine = [self.versions[e] for e in events if e in self.versions]
        return {
            "champion_predictions": sum(map(len, mine)),
            "events_predicted": len(mine),
            "events_predicted_twice": sum(len(v) > 1 for v in mine),
            "events_with_two_champion_versions": sum(len(set(v)) > 1 for v in mine),
        }

    async def until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until ``done()`` holds after a prediction (``False``: not within the time)."""
        try:
            async with asyncio.timeout(timeout_s):
                while not done():
                    self.seen.clear()
                    await self.seen.wait()
        except TimeoutError:
            return False
        return True

    async def first_by(self, version: int) -> float | None:
        """When the first prediction by ``version`` was seen (``None``: not in time)."""
        await self.until(lambda: version in self.first, SWAP_TIMEOUT_S)
        return self.first.get(version)


async def swaps(run: Scenario) -> dict[str, Any]:
    """Versions promoted one after another while transactions flow at the swap rate."""
    session, rate = run.session, run.sizes.swap_rate
    session.say(f"swaps: versions {SWAP_VERSIONS} while {rate:,.0f} events/s flow")
    longest = SWAP_GAP_S * (len(SWAP_VERSIONS) + 1) + SWAP_TIMEOUT_S * len(SWAP_VERSIONS)
    paced = [t.event for t in run.stream.take(math.ceil(rate * longest))]
    champions, latency, ready, stop = Champions(), Latency(), asyncio.Event(), asyncio.Event()
    observer = asyncio.create_task(
        observe_outputs(
            session.options, [PREDICTIONS_TOPIC], len(paced), latency, ready, champions.note
        )
    )
    await ready.wait()
    flow = asyncio.create_task(
        paced_producer(session.options, DATA_TOPIC, paced, rate, latency, stop)
    )
    took: dict[int, float | None] = {}
    for version in SWAP_VERSIONS:
        await asyncio.sleep(SWAP_GAP_S)
        published = await run.promote(version)
        seen = await champions.first_by(version)
        took[version] = None if seen is None else seen - published
        session.say(
            f"  version {version}: {'not seen' if seen is None else f'{took[version]:.3f} s'}"
        )
    await asyncio.sleep(SWAP_GAP_S)
    stop.set()
    sent_rate = await flow
    answered = latency.arrived[PREDICTIONS_TOPIC]
    await champions.until(lambda: len(answered) >= len(latency.sent), DRAIN_TIMEOUT_S)
    observer.cancel()
    run.vectors_published += len(latency.sent)
    measured = [s for s in took.values() if s is not None]
    return {
        "offered_per_s": round(rate),
        "sent_per_s": round(sent_rate),
        "events": len(latency.sent),
        "seconds_by_version": {str(v): None if s is None else round(s, 3) for v, s in took.items()},
        "median_s": round(statistics.median(measured), 3) if measured else None,
        "max_s": round(max(measured), 3) if measured else None,
        **champions.of(latency.sent),
        "publish_to_prediction": percentiles([answered[i] - latency.sent[i] for i in answered]),
    }


async def idle_cores(cpu: CpuSampler, seconds: float = IDLE_S) -> dict[str, float]:
    """Cores each process uses while no event flows (polling, timers, span export)."""
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    return cpu.cores(began, time.perf_counter())


async def bench(session: Session, sizes: Sizes) -> dict[str, Any]:
    run, model = await prepare(session, sizes)
    sampling = asyncio.create_task(run.cpu.run())
    idle = {"start": await idle_cores(run.cpu)}
    measured = await throughput(run)
    phases = await latencies(run)
    swapping = await swaps(run)
    idle["end"] = await idle_cores(run.cpu)
    sampling.cancel()
    options, ports = session.options, session.processes.ports
    scorer = measured["scorer"]
    scorer.update(session.processes.peak_memory("scorer"))  # after every phase: the run's peak
    fixed = phases["fixed_rate"]["publish_to_prediction"]
    return {
        "benchmark": "scoring",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": sizes.events,
        "dataset": DATASET,
        "cards": CARDS,
        "partitions": PARTITIONS,
        "model": model,
        "mean_bytes": {
            "vector": await harness.mean_bytes(options, FEATURES_TOPIC),
            "prediction": await harness.mean_bytes(options, PREDICTIONS_TOPIC),
        },
        **measured,
        "latency": phases,
        "swaps": swapping,
        "idle_cpu_cores": idle,
        "targets": {
            "scorer_ratio_at_least_0.5": scorer["ratio_to_bare_loop"] >= 0.5,
            "p99_at_fixed_rate_at_most_100_ms": fixed["p99_ms"] is not None
            and fixed["p99_ms"] <= 100
            and phases["fixed_rate"]["kept_up"],
            "saturation_at_least_3000_per_s": phases["saturation"]["predictions_per_s"] >= 3_000,
            "swaps_under_1_s": swapping["max_s"] is not None and swapping["max_s"] < 1,
        },
        "memory": {
            n: session.processes.peak_memory(n)
            for n in ("scorer", "feature", "ingestion", *(LOOP_REST if sizes.whole_loop else ()))
        },
        "whole_loop": sizes.whole_loop,
        "scorer_models": harness.get_json(f"http://127.0.0.1:{ports['scorer']}/v1/models"),
        "scorer_stats": harness.get_json(f"http://127.0.0.1:{ports['scorer']}/v1/stats"),
        "service_env": session.extra_env,
        "versions": versions(),
        "cpus": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> str:
    """The throughput table, the latency of each phase and the swaps."""
    lines = harness.throughput_table(result, ("bare_loop", "scorer"))
    bare, scorer = result["bare_loop"], result["scorer"]
    shared = [r["cpu_cores"] for r in (bare, scorer)]
    lines.append(
        f"CPU per event: bare loop {bare['cpu_us_per_event']} µs, scorer "
        f"{scorer['cpu_us_per_event']} µs (ratio {scorer['cpu_ratio_to_bare_loop']}); meanwhile "
        "other processes used "
        + " and ".join(f"{c.get('others', 0):.2f}" for c in shared)
        + " cores, some task waited for a core "
        + " and ".join(f"{c.get('cpu_pressure', 0):.0%}" for c in shared)
        + " of the time"
    )
    for name, phase in result["latency"].items():
        offered = phase["offered_per_s"]
        lines.append(
            f"latency, {name} ({'all at once' if offered is None else f'{offered:,}/s offered'}; "
            f"sent {phase['sent_per_s']:,}/s, predictions out {phase['predictions_per_s']:,}/s, "
            f"{phase['predictions_seen']:,}/{phase['events']:,} seen, kept up: {phase['kept_up']}):"
        )
        used = ", ".join(f"{n} {c:.2f}" for n, c in phase["cpu_cores"].items())
        per_event = ", ".join(f"{n} {us:,}" for n, us in phase["cpu_us_per_event"].items())
        lines += [f"  cores used: {used}", f"  CPU µs per event: {per_event}"]
        for stage in ("prediction", "vector", "validated"):
            p = phase[f"publish_to_{stage}"]
            lines.append(
                f"  publish → {stage:<10}  p50 {p['p50_ms']} ms  p95 {p['p95_ms']} ms  "
                f"p99 {p['p99_ms']} ms  max {p['max_ms']} ms"
            )
    swap = result["swaps"]
    by_version = ", ".join(f"v{v} {s} s" for v, s in swap["seconds_by_version"].items())
    lines.append(
        f"swaps at {swap['offered_per_s']:,} events/s: {by_version} (median {swap['median_s']} s); "
        f"events with two champion versions: {swap['events_with_two_champion_versions']}"
    )
    start, end = (result["idle_cpu_cores"][k] for k in ("start", "end"))
    idle = ", ".join(f"{n} {start.get(n, '-')} → {end[n]}" for n in end if n not in MACHINE)
    lines.append(f"idle cores, first phase → after the last: {idle}")
    lines.append(f"targets: {result['targets']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the scorer under load")
    parser.add_argument("--events", type=int, default=100_000, help="vectors for throughput")
    parser.add_argument("--train-rows", type=int, default=20_000, help="transactions to fit on")
    parser.add_argument("--rate", type=float, default=1_000.0, help="fixed offered events/s")
    parser.add_argument("--latency-events", type=int, default=60_000, help="events per paced phase")
    parser.add_argument("--saturation-events", type=int, default=20_000, help="events sent at once")
    parser.add_argument(
        "--load",
        type=float,
        default=0.5,
        help="of the saturation rate, if the fixed rate did not keep up",
    )
    parser.add_argument("--swap-rate", type=float, default=200.0, help="events/s during the swaps")
    parser.add_argument(
        "--hot-path-only",
        dest="whole_loop",
        action="store_false",
        help="latency phases without the registry, monitor and trainer running",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    harness.add_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.train_rows, args.bare_rounds = 10_000, 5_000, 1
        args.latency_events, args.saturation_events = 3_000, 3_000
    if args.events < 2_000:
        parser.error("--events: at least 2,000, or the bare loop is over before it is measured")
    if args.latency_events < 100 or args.saturation_events < 100 or not 0 < args.load < 1:
        parser.error("--latency-events, --saturation-events: at least 100; --load: in (0, 1)")
    sizes = Sizes(**{f.name: getattr(args, f.name) for f in fields(Sizes)})

    async def run(session: Session) -> dict[str, Any]:
        return await bench(session, sizes)

    harness.run_session(parser, args, run, RESULTS, report)


if __name__ == "__main__":
    main(sys.argv[1:])
