"""Tracing across the loop, from the spans the services export on the embedded default.

The serving path runs as processes (registry, ingestion, feature, trainer, scorer), each writing
its JSON-lines span file. Version 1 is trained and served; one data event's trace then covers
ingestion → feature → scorer, each hop a child of the one before. The fraud pattern changes, and
a ``drift detected`` alarm is published as the monitor publishes it (in its span, the trace in
the record's headers): its trace reaches the trainer's run, the registry's registration and
promotion, and the scorer's swap to version 2. ``driftloop trace`` prints both trees.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry import propagate
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from typer.testing import CliRunner

from driftloop_cli import tracing as tr
from driftloop_cli.local.processes import stop
from driftloop_cli.main import app
from driftloop_cli.simulation import CardTransactions, outcome_of
from driftloop_contracts import (
    DATA_TOPIC,
    DRIFT_TOPIC,
    OUTCOMES_TOPIC,
    PREDICTIONS_TOPIC,
    ChangePoint,
    DriftDetected,
    TimeWindow,
)
from driftloop_runtime.telemetry import JsonLinesSpanExporter
from tests.e2e.serving import ServingPath, apply_fraud_spec, start_serving_path, wait_for
from tests.e2e.test_serving_path import champion, champion_predictions, serving
from tests.integration.conftest import RunningService
from tests.integration.ingestion.helpers import TopicTail, publish_events, wait_for_spec
from tests.integration.kafka_helpers import produce, unique

pytestmark = pytest.mark.e2e

BACKFILL = 600
SERVED = 100  # data events scored by version 1 before the change
AFTER_CHANGE = 500  # labelled events of the new pattern: what version 2 learns
TRAINING_TIMEOUT_S = 120.0
SPANS_TIMEOUT_S = 30.0  # the services export in batches every few seconds


@pytest.fixture
def serving_path(
    registry_service: RunningService, ingestion_service: RunningService, tmp_path: Path
) -> Iterator[ServingPath]:
    trainer_env = {"DRIFTLOOP_POLL_INTERVAL_S": "1"}
    path = start_serving_path(registry_service, ingestion_service, tmp_path, trainer_env)
    try:
        yield path
    finally:
        for pid in path.pids:
            stop(pid)


@pytest.fixture
async def predictions(registry_service: RunningService) -> AsyncIterator[TopicTail]:
    bootstrap = registry_service.env["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    async with TopicTail(bootstrap, PREDICTIONS_TOPIC) as tail:
        yield tail


@pytest.fixture
def traces_dir(serving_path: ServingPath, tmp_path: Path) -> Path:
    """One directory with every service's span file in it, as ``driftloop local up`` has."""
    folder = tmp_path / "traces"
    folder.mkdir()
    path = serving_path
    services = {
        "registry": path.registry,
        "ingestion": path.ingestion,
        "feature": path.feature,
        "trainer": path.trainer,
        "scorer": path.scorer,
    }
    for name, service in services.items():
        (folder / f"{name}.jsonl").symlink_to(service.env["DRIFTLOOP_TRACES_FILE"])
    return folder


async def test_a_data_events_trace_and_a_drift_alarms_trace_cross_the_services(
    registry_service: RunningService,
    ingestion_service: RunningService,
    serving_path: ServingPath,
    predictions: TopicTail,
    traces_dir: Path,
) -> None:
    bootstrap = registry_service.env["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = unique("traced")
    spec_version = await apply_fraud_spec(
        registry_service, dataset, min_labelled_rows=300, cooldown="1s"
    )
    await wait_for_spec(ingestion_service, dataset, spec_version)
    stream = CardTransactions(
        dataset=dataset,
        fraud_rate=0.1,
        change_at=BACKFILL + SERVED,
        seed=7,
        id_prefix=dataset,
        start=datetime.now(UTC) - timedelta(hours=6),
    )

    # version 1, trained on a labelled backfill and served
    await publish_events(
        bootstrap, DATA_TOPIC, [t.event for t in stream.take(BACKFILL, labelled=True)]
    )
    await wait_for(
        "version 1 to be champion",
        lambda: champion(registry_service, dataset, 1),
        timeout_s=TRAINING_TIMEOUT_S,
    )
    await wait_for(
        "the scorer to serve v1", lambda: serving(serving_path.scorer, dataset, 1), timeout_s=30
    )

    # 1. one data event's trace: ingestion → feature → scorer, parent to child
    served = stream.take(SERVED)
    await publish_events(bootstrap, DATA_TOPIC, [t.event for t in served])
    scored = await champion_predictions(predictions, dataset, served)
    subject = served[0].event.event_id
    prediction_id = scored[subject]["event_id"]
    found = await wait_for(
        "the prediction's span",
        lambda: exported(traces_dir, subject, lambda n: n.span.service == "scorer"),
        timeout_s=SPANS_TIMEOUT_S,
    )
    (root,) = found.roots
    chain = list(root.walk())
    assert [n.span.service for n in chain] == ["ingestion", "feature", "scorer"]
    assert [n.span.attributes["driftloop.event_type"] for n in chain] == [
        "data.validated",
        "features.computed",
        "prediction",
    ]
    assert chain[-1].span.attributes["driftloop.event_id"] == prediction_id
    assert_consistent(chain)

    # 2. the pattern changes, and an alarm is raised the way the monitor raises it
    changed = stream.take(AFTER_CHANGE)
    await publish_events(bootstrap, DATA_TOPIC, [t.event for t in changed])
    await publish_events(
        bootstrap, OUTCOMES_TOPIC, [outcome_of(t, timedelta(minutes=30)) for t in changed]
    )
    await champion_predictions(predictions, dataset, changed)
    alarm = drift_alarm(dataset, changed[0].event.occurred_at, changed[-1].event.occurred_at)
    await publish_alarm(bootstrap, alarm, traces_dir / "monitor.jsonl")
    await wait_for(
        "version 2 to be champion",
        lambda: champion(registry_service, dataset, 2),
        timeout_s=TRAINING_TIMEOUT_S,
    )
    await wait_for(
        "the scorer to serve v2", lambda: serving(serving_path.scorer, dataset, 2), timeout_s=30
    )

    # 3. the alarm's trace: the trainer's run, the registry's promotion, the scorer's swap
    found = await wait_for(
        "the swap's span in the alarm's trace",
        lambda: exported(traces_dir, alarm.event_id, is_swap_to_2),
        timeout_s=SPANS_TIMEOUT_S,
    )
    (root,) = found.roots
    nodes = list(root.walk())
    assert_consistent(nodes)
    assert root.span.name == "monitor.drift_detected"
    assert root.span.service == "monitor"
    train = one(nodes, "trainer.train")
    assert train.span.parent_span_id == root.span.span_id
    result = one(nodes, "driftloop.trainings.v1 publish")
    register = one(nodes, "registry.register_training")
    promoted = one(nodes, "driftloop.models.promoted.v1 publish")
    swap = one(nodes, "swap")
    assert in_subtree(train, result)
    assert in_subtree(result, register)
    assert in_subtree(result, promoted)
    assert in_subtree(promoted, swap)
    assert (
        swap.span.attributes["driftloop.cause_event_id"]
        == (promoted.span.attributes["driftloop.event_id"])
    )
    steps = [root, train, register, promoted, swap]
    assert [n.span.service for n in steps] == [
        "monitor",
        "trainer",
        "registry",
        "registry",
        "scorer",
    ]
    assert [n.span.start_ns for n in steps] == sorted(n.span.start_ns for n in steps)

    # 4. and the command prints both trees from the directory of span files
    printed = [
        CliRunner().invoke(app, ["trace", event_id, "--traces", str(traces_dir)])
        for event_id in (subject, alarm.event_id)
    ]
    assert [p.exit_code for p in printed] == [0, 0], [p.output for p in printed]
    assert printed[0].stdout.splitlines()[0].endswith("ingestion → feature → scorer")
    assert printed[1].stdout.splitlines()[0].endswith("monitor → trainer → registry → scorer")
    print(printed[0].stdout, printed[1].stdout, sep="\n")  # what the README shows


def drift_alarm(dataset: str, since: datetime, until: datetime) -> DriftDetected:
    return DriftDetected(
        event_id=f"drift-{secrets.token_hex(8)}",
        occurred_at=datetime.now(UTC),
        producer="monitor",
        dataset=dataset,
        model_version=1,
        kind="performance",
        signal="error",
        detector="adwin",
        statistic=0.31,
        threshold=0.002,
        window=TimeWindow(start=since, end=until, size=AFTER_CHANGE),
        change_point=ChangePoint(event_time=since),
    )


async def publish_alarm(bootstrap: str, alarm: DriftDetected, spans_file: Path) -> None:
    """Publish ``alarm`` in a ``monitor.drift_detected`` span exported to ``spans_file``, its
    trace context in the record's headers."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "monitor"}))
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(spans_file)))
    tracer = provider.get_tracer("monitor")
    attributes = {"driftloop.event_id": alarm.event_id, "driftloop.dataset": alarm.dataset}
    with tracer.start_as_current_span("monitor.drift_detected", attributes=attributes):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        headers = [(name, value.encode()) for name, value in carrier.items()]
        record = (alarm.dataset.encode(), alarm.model_dump_json().encode(), headers)
        await produce(bootstrap, DRIFT_TOPIC, [record])
    provider.shutdown()


async def exported(
    folder: Path, event_id: str, last: Callable[[tr.SpanNode], bool]
) -> tr.EventTrace | None:
    """The trace of ``event_id`` once a span ``last`` picks is exported, and every span of its
    tree with it (the services export in batches, each on its own schedule)."""
    spans, _ = tr.read_spans(tr.span_files(folder))
    try:
        found = tr.event_trace(spans, event_id)
    except tr.EventNotTracedError:
        return None
    nodes = found.nodes()
    if not any(last(n) for n in nodes) or any(n.orphan for n in nodes):
        return None
    return found


def is_swap_to_2(node: tr.SpanNode) -> bool:
    span = node.span
    return span.name == "swap" and span.attributes.get("driftloop.model_version") == 2


def assert_consistent(nodes: Sequence[tr.SpanNode]) -> None:
    """Every span's parent is in the same trace and started no later than it."""
    by_id = {n.span.span_id: n.span for n in nodes}
    for node in nodes[1:]:
        assert not node.orphan, f"{node.span.name}: its parent was not exported"
        parent = by_id[node.span.parent_span_id or ""]
        assert parent.trace_id == node.span.trace_id
        assert parent.start_ns <= node.span.start_ns, f"{node.span.name} before its parent"


def one(nodes: Sequence[tr.SpanNode], name: str) -> tr.SpanNode:
    (found,) = [n for n in nodes if n.span.name == name]
    return found


def in_subtree(top: tr.SpanNode, node: tr.SpanNode) -> bool:
    return any(n is node for n in top.walk())
