"""The closed loop, all six services as processes on the embedded broker and store.

Version 1 is trained on a labelled backfill and served. Its rolling quality is stable while the
fraud pattern holds. Then the pattern changes (fraud moves from large purchases abroad to
mid-size ones at home) and its labels arrive late: the monitor's performance detector fires,
places the change, waits for enough post-change labels and publishes ``drift detected``; the
trainer trains version 2 on the data since the change point; the registry registers it and
promotes it by policy; the scorer swaps it in; the monitor resets to it; and the quality of the
served predictions recovers. Each step follows the one before, linked by causation ids. From the
spans the services export, one data event's trace covers ingestion → feature → scorer with the
monitor's batch linked to it, and the alarm's trace reaches the trainer's run, the registry's
promotion and the scorer's swap; ``driftloop trace`` prints both.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from driftloop_cli import tracing as tr
from driftloop_cli.main import app
from driftloop_cli.simulation import CardTransactions, Transaction, outcome_of
from driftloop_contracts import (
    DATA_TOPIC,
    DRIFT_TOPIC,
    MODELS_PROMOTED_TOPIC,
    MODELS_REGISTERED_TOPIC,
    OUTCOMES_TOPIC,
    PREDICTIONS_TOPIC,
    TRAININGS_TOPIC,
    DriftDetected,
    Event,
    ModelPromoted,
    ModelRegistered,
    TrainingCompleted,
)
from tests.e2e.serving import ServingPath, apply_fraud_spec, running_serving_path, wait_for
from tests.e2e.test_serving_path import champion, champion_predictions, serving
from tests.e2e.traces import (
    assert_consistent,
    exported,
    in_subtree,
    is_swap_to,
    one,
    traces_dir,
)
from tests.integration.conftest import RunningService
from tests.integration.ingestion.helpers import Record, TopicTail, publish_events, wait_for_spec
from tests.integration.kafka_helpers import unique

pytestmark = pytest.mark.e2e

E = TypeVar("E", bound=Event)

BACKFILL = 1_000  # labelled history: version 1's data
BEFORE = 2_000  # events served by version 1 while the fraud pattern holds
CHUNK = 250  # events published at a time; each chunk's labels come with the next chunk
MAX_AFTER = 6_000  # post-change events the monitor gets to notice the change
AFTER_SWAP = 1_500  # post-change events served by version 2
WINDOW = 1_000  # events behind a rolling quality figure
LOOP_TIMEOUT_S = 180.0
SPANS_TIMEOUT_S = 30.0  # the services export their spans in batches, every few seconds


@pytest.fixture
def serving_path(
    registry_service: RunningService, ingestion_service: RunningService, tmp_path: Path
) -> Iterator[ServingPath]:
    yield from running_serving_path(registry_service, ingestion_service, tmp_path, monitor=True)


@pytest.fixture
async def tails(registry_service: RunningService) -> AsyncIterator[dict[str, TopicTail]]:
    bootstrap = registry_service.env["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    topics = (
        PREDICTIONS_TOPIC,
        DRIFT_TOPIC,
        TRAININGS_TOPIC,
        MODELS_REGISTERED_TOPIC,
        MODELS_PROMOTED_TOPIC,
    )
    async with contextlib.AsyncExitStack() as stack:
        yield {t: await stack.enter_async_context(TopicTail(bootstrap, t)) for t in topics}


async def test_drift_retrains_promotes_and_swaps_a_model_that_recovers_the_quality(
    registry_service: RunningService,
    ingestion_service: RunningService,
    serving_path: ServingPath,
    tails: dict[str, TopicTail],
    tmp_path: Path,
) -> None:
    bootstrap = registry_service.env["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    monitor = serving_path.monitor
    assert monitor is not None
    dataset = unique("loop")
    # Only the performance detector: the data and prediction detectors may notice the same
    # change too (each a valid alarm the trainer would coalesce), and this test follows one.
    spec_version = await apply_fraud_spec(
        registry_service, dataset, detectors=["performance"], cooldown="1s"
    )
    await wait_for_spec(ingestion_service, dataset, spec_version)
    stream = CardTransactions(
        dataset=dataset,
        fraud_rate=0.1,
        change_at=BACKFILL + BEFORE,
        seed=5,
        id_prefix=dataset,
        start=datetime.now(UTC) - timedelta(days=2),
    )
    upstream = Upstream(bootstrap, stream)

    # 1. version 1 from the labelled history, served; the monitor watches it
    await publish_events(
        bootstrap, DATA_TOPIC, [t.event for t in stream.take(BACKFILL, labelled=True)]
    )
    await wait_for(
        "version 1 to be champion",
        lambda: champion(registry_service, dataset, 1),
        timeout_s=LOOP_TIMEOUT_S,
    )
    await wait_for(
        "the scorer to serve v1", lambda: serving(serving_path.scorer, dataset, 1), timeout_s=30
    )

    # 2. while the pattern holds, version 1's quality is stable; the monitor watches it
    before = await upstream.play(BEFORE)
    await wait_for("the monitor to watch v1", lambda: watching(monitor, dataset, 1), timeout_s=30)
    scored = await champion_predictions(tails[PREDICTIONS_TOPIC], dataset, before)
    halves = [quality(part, scored) for part in (before[:WINDOW], before[-WINDOW:])]
    assert min(halves) > 0.9, f"version 1 should catch the fraud it learnt: {halves}"
    assert abs(halves[0] - halves[1]) < 0.05, f"unstable before the change: {halves}"
    assert not await found(tails[DRIFT_TOPIC], dataset), "an alarm before the change"

    # 3. the pattern changes: the monitor notices and the loop turns
    after: list[Transaction] = []
    while not await found(tails[DRIFT_TOPIC], dataset) and len(after) < MAX_AFTER:
        after += await upstream.play(CHUNK)
    (alarm,) = await found(tails[DRIFT_TOPIC], dataset)
    promoted = await wait_for(
        "version 2 to be promoted",
        lambda: promotion(tails[MODELS_PROMOTED_TOPIC], dataset, 2),
        timeout_s=LOOP_TIMEOUT_S,
    )
    await wait_for(
        "the scorer to serve v2", lambda: serving(serving_path.scorer, dataset, 2), timeout_s=30
    )
    await wait_for(
        "the monitor to reset to v2", lambda: watching(monitor, dataset, 2), timeout_s=30
    )
    await upstream.labels()  # the labels still owed

    # 4. each step caused by the one before, in that order
    drift = parse(alarm, DriftDetected)
    assert (drift.kind, drift.model_version) == ("performance", 1)
    assert drift.change_point is not None
    change_time = after[0].event.occurred_at
    assert abs(drift.change_point.event_time - change_time) < timedelta(minutes=30), (
        f"change placed at {drift.change_point.event_time}, happened at {change_time}"
    )
    (training,) = await caused_by(tails[TRAININGS_TOPIC], TrainingCompleted, drift.event_id)
    training_event = parse(training, TrainingCompleted)
    assert training_event.status == "succeeded", training_event.failure_reason
    assert training_event.data_window is not None
    # trained on the changed world: nothing before the change point (to the millisecond the
    # offline store keeps of a time, as BSON dates do)
    change_ms = drift.change_point.event_time.replace(
        microsecond=drift.change_point.event_time.microsecond // 1000 * 1000
    )
    assert training_event.data_window.first_event_time >= change_ms
    (registered,) = await caused_by(
        tails[MODELS_REGISTERED_TOPIC], ModelRegistered, training_event.event_id
    )
    registration = parse(registered, ModelRegistered)
    assert registration.version == 2
    promoted_event = parse(promoted, ModelPromoted)
    assert promoted_event.causation_id == registration.event_id

    # 5. version 2 serves the changed world as well as version 1 served the old one
    changed = await upstream.play(AFTER_SWAP)
    scored = await champion_predictions(tails[PREDICTIONS_TOPIC], dataset, after + changed)
    first_by_2 = min(
        (r for r in tails[PREDICTIONS_TOPIC].records if version_of(r, dataset) == 2),
        key=lambda r: r.timestamp,
    )
    steps = [alarm, training, registered, promoted, first_by_2]
    assert [r.timestamp for r in steps] == sorted(r.timestamp for r in steps)
    blind = quality(after[:WINDOW], scored)
    recovered = quality(changed[-WINDOW:], scored)
    assert {scored[t.event.event_id]["model_version"] for t in changed[-WINDOW:]} == {2}
    assert blind < halves[1] - 0.05, f"version 1 should miss the new fraud: {blind}"
    assert recovered > halves[1] - 0.03, f"not recovered: {recovered} vs {halves[1]} before"

    # 6. the traces: one data event's across the services, the monitor's batch linked to it;
    # the alarm's through the trainer's run, the registry's promotion and the scorer's swap
    folder = traces_dir(tmp_path / "traces", services(serving_path))
    subject = before[-1].event.event_id
    data_trace = await wait_for(
        "the monitor's batch in a data event's trace",
        lambda: exported(folder, subject, lambda n: n.span.service == "monitor"),
        timeout_s=SPANS_TIMEOUT_S,
    )
    (root,) = data_trace.roots
    nodes = list(root.walk())
    assert_consistent(nodes)
    # the services trace per batch: the publish spans of the batches that carried its path
    chain = [n for n in nodes if is_publish(n) and on_path(n, data_trace.lineage)]
    assert [n.span.service for n in chain] == ["ingestion", "feature", "scorer"]
    assert [n.span.attributes["driftloop.event_type"] for n in chain] == [
        "data.validated",
        "features.computed",
        "prediction",
    ]
    assert any(n.relation == "linked from" and n.span.service == "monitor" for n in nodes)
    alarm_trace = await wait_for(
        "the swap to v2 in the alarm's trace",
        lambda: exported(folder, drift.event_id, is_swap_to(2)),
        timeout_s=SPANS_TIMEOUT_S,
    )
    (root,) = alarm_trace.roots
    nodes = list(root.walk())
    assert_consistent(nodes)
    assert (root.span.name, root.span.service) == ("monitor.drift_detected", "monitor")
    train = one(nodes, "trainer.train")
    result = one(nodes, "driftloop.trainings.v1 publish")
    register = one(nodes, "registry.register_training")
    promote = one(nodes, "driftloop.models.promoted.v1 publish")
    (swap,) = [n for n in nodes if is_swap_to(2)(n)]
    for top, below in ((root, train), (train, result), (result, register), (result, promote)):
        assert in_subtree(top, below), f"{below.span.name} not under {top.span.name}"
    assert in_subtree(promote, swap)
    assert swap.span.attributes["driftloop.cause_event_id"] == promoted_event.event_id
    printed = [
        CliRunner().invoke(app, ["trace", event_id, "--traces", str(folder)])
        for event_id in (subject, drift.event_id)
    ]
    assert [p.exit_code for p in printed] == [0, 0], [p.output for p in printed]
    assert "ingestion → feature → scorer" in printed[0].stdout.splitlines()[0]
    assert printed[1].stdout.splitlines()[0].endswith("monitor → trainer → registry → scorer")


class Upstream:
    """The upstream system: data events in chunks, each chunk's labels one chunk later."""

    def __init__(self, bootstrap: str, stream: CardTransactions) -> None:
        self._bootstrap, self._stream = bootstrap, stream
        self._unlabelled: list[Transaction] = []

    async def play(self, count: int) -> list[Transaction]:
        played: list[Transaction] = []
        while len(played) < count:
            chunk = self._stream.take(min(CHUNK, count - len(played)))
            await publish_events(self._bootstrap, DATA_TOPIC, [t.event for t in chunk])
            await self.labels()
            self._unlabelled, played = chunk, played + chunk
        return played

    async def labels(self) -> None:
        outcomes = [outcome_of(t, timedelta(minutes=30)) for t in self._unlabelled]
        await publish_events(self._bootstrap, OUTCOMES_TOPIC, outcomes)
        self._unlabelled = []


def services(path: ServingPath) -> dict[str, RunningService]:
    assert path.monitor is not None
    return {
        "registry": path.registry,
        "ingestion": path.ingestion,
        "feature": path.feature,
        "trainer": path.trainer,
        "scorer": path.scorer,
        "monitor": path.monitor,
    }


def is_publish(node: tr.SpanNode) -> bool:
    return node.span.name.endswith(" publish")


def on_path(node: tr.SpanNode, lineage: frozenset[str]) -> bool:
    """Whether the span published one of the events of ``lineage``."""
    return any(event in lineage for event, _ in node.span.published())


def quality(transactions: Sequence[Transaction], scored: dict[str, dict[str, Any]]) -> float:
    """ROC AUC of the champion's fraud scores of ``transactions``."""
    truth = np.array([t.is_fraud for t in transactions])
    scores = np.array([scored[t.event.event_id]["scores"]["true"] for t in transactions])
    return float(roc_auc_score(truth, scores))


async def watching(monitor: RunningService, dataset: str, version: int) -> bool:
    """Whether the monitor compares ``dataset`` with ``version`` (it takes a dataset on from
    its first event after a champion is known)."""
    async with httpx.AsyncClient(base_url=monitor.url, timeout=30) as http:
        response = await http.get(f"/v1/monitors/{dataset}")
    if response.status_code == 404:
        return False
    response.raise_for_status()
    return bool(response.json()["champion"] == version)


def payload(record: Record) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record.value)
    return value


async def found(tail: TopicTail, dataset: str) -> list[Record]:
    await tail.collect(lambda r: False, expect=1, timeout_s=0.2)
    return [r for r in tail.records if payload(r)["dataset"] == dataset]


async def promotion(tail: TopicTail, dataset: str, version: int) -> Record | None:
    for record in await found(tail, dataset):
        event = payload(record)
        if event["version"] == version and event["alias"] == "champion":
            return record
    return None


async def caused_by(tail: TopicTail, contract: type[Event], cause: str) -> list[Record]:
    await tail.collect(lambda r: payload(r)["causation_id"] == cause, expect=1, timeout_s=30)
    return [r for r in tail.records if parse(r, contract).causation_id == cause]


def parse(record: Record, contract: type[E]) -> E:
    return contract.model_validate_json(record.value)


def version_of(record: Record, dataset: str) -> int | None:
    prediction = payload(record)
    if prediction["dataset"] != dataset or prediction["shadow"]:
        return None
    version: int = prediction["model_version"]
    return version
