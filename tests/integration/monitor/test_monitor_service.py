"""The monitor as a process: a champion read from the lifecycle topics, its stream's labels
joined, a performance drift found with its change point, reports at the interval, bad records
dead-lettered, and a new champion's promotion resetting the monitor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from driftloop_cli.local.processes import stop
from driftloop_contracts import (
    DEAD_LETTER_TOPIC,
    DRIFT_TOPIC,
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PERFORMANCE_TOPIC,
    PREDICTIONS_TOPIC,
    DeadLettered,
    DriftDetected,
    PerformanceReported,
)
from tests.integration.conftest import RunningService
from tests.integration.feature.stream import fraud_spec
from tests.integration.kafka_helpers import produce, unique
from tests.integration.monitor.conftest import monitor_env, start_monitor
from tests.integration.monitor.stream import (
    STEP,
    Stream,
    apply_spec,
    publish_lifecycle,
    publish_stream,
)
from tests.integration.scorer.helpers import get_json, read_until

pytestmark = pytest.mark.integration

COUNT, CHANGE_AT, POST_CHANGE = 2400, 1200, 200


@pytest.fixture(scope="module")
def monitor(
    infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    home = tmp_path_factory.mktemp("monitor")
    pid, running = start_monitor(monitor_env(infra, home), home / "monitor.log")
    try:
        yield running
    finally:
        stop(pid)


async def started_stream(bootstrap: str) -> Stream:
    """A dataset with a spec and a champion (version 1, with its reference) and its stream."""
    spec, applied = fraud_spec(unique("cards"), min_post_change_labels=POST_CHANGE)
    await apply_spec(bootstrap, applied)
    stream = Stream(spec, COUNT, CHANGE_AT)
    await publish_lifecycle(bootstrap, stream, 1, stream.when(0))
    return stream


async def test_performance_drift_is_found_with_its_change_point_and_reports_follow(
    infra: dict[str, str], monitor: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    stream = await started_stream(bootstrap)
    await publish_stream(bootstrap, *stream.events())
    needle = f'"dataset":"{stream.dataset}"'.encode()

    (alarm,) = await read_until(
        bootstrap, DRIFT_TOPIC, DriftDetected, needle, lambda f: len(f) >= 1
    )
    assert (alarm.kind, alarm.signal, alarm.detector, alarm.model_version) == (
        "performance",
        "error",
        "adwin",
        1,
    )
    assert alarm.change_point is not None
    # ADWIN places the change within a few hundred labels of where the labels turned
    assert (
        stream.when(CHANGE_AT - 200)
        <= alarm.change_point.event_time
        <= stream.when(CHANGE_AT + 300)
    )
    assert alarm.change_point.partition is not None
    assert alarm.change_point.offset is not None
    assert alarm.evidence["post_change_labels"] >= POST_CHANGE
    assert alarm.window.end >= alarm.change_point.event_time

    # every 30 minutes of event time (60 events), one report on the champion's labels
    reports = await read_until(
        bootstrap, PERFORMANCE_TOPIC, PerformanceReported, needle, lambda f: len(f) >= 30
    )
    assert {r.model_version for r in reports} == {1}
    assert len({r.event_id for r in reports}) == len(reports)
    early = [r for r in reports if r.window.end < stream.when(CHANGE_AT)]
    assert early
    assert all(r.metrics["accuracy"] > 0.8 for r in early)
    assert all(r.window.end - r.window.start <= 60 * STEP for r in reports)

    stats = await get_json(
        monitor, "/v1/stats", lambda s: s["datasets"].get(stream.dataset, {}).get("joined") == COUNT
    )
    counters = stats["datasets"][stream.dataset]
    assert counters["alarms"] == 1
    assert counters["orphan_labels"] == counters["late_labels"] == 0
    status = await get_json(monitor, f"/v1/monitors/{stream.dataset}", lambda s: True)
    assert status["champion"] == 1
    assert status["rolling"]["size"] == 1000  # policy.rolling_window: the latest labels
    assert status["rolling"]["metrics"]["accuracy"] < 0.8  # after the change
    # the stream is stationary but for its labels: no data or prediction alarm
    only = await read_until(bootstrap, DRIFT_TOPIC, DriftDetected, needle, lambda f: True, 5)
    assert {a.kind for a in only} == {"performance"}


async def test_a_bad_record_on_each_input_is_dead_lettered_and_the_rest_is_read(
    infra: dict[str, str], monitor: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    stream = await started_stream(bootstrap)
    vectors, predictions, outcomes = Stream(stream.spec, 50, 50).events()
    marker = unique("broken")
    topics = (FEATURES_TOPIC, PREDICTIONS_TOPIC, OUTCOMES_VALIDATED_TOPIC)
    for topic in topics:
        bad = f'{{"dataset":"{stream.dataset}","marker":"{marker}"}}'.encode()
        await produce(bootstrap, topic, [(b"card-1", bad, []), (b"card-1", b"not json", [])])
    await publish_stream(bootstrap, vectors, predictions, outcomes)

    letters = await read_until(
        bootstrap, DEAD_LETTER_TOPIC, DeadLettered, marker.encode(), lambda f: len(f) >= 3
    )
    assert sorted(letter.source_topic for letter in letters) == sorted(topics)
    assert all(
        letter.producer == "monitor" and letter.error_type == "contract" for letter in letters
    )
    assert all("does not match" in letter.reason for letter in letters)
    stats = await get_json(
        monitor, "/v1/stats", lambda s: s["datasets"].get(stream.dataset, {}).get("joined") == 50
    )
    assert all(stats["dead_lettered"][topic] >= 2 for topic in topics)


def taken(vectors: int) -> Callable[[dict[str, Any]], bool]:
    """The monitor's status shows version 2, or ``vectors`` vectors of version 1 observed."""
    return lambda s: bool(s["champion"] == 2 or s["samples"]["vectors"] > vectors)


async def test_a_new_champion_resets_the_monitor(
    infra: dict[str, str], monitor: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    stream = await started_stream(bootstrap)
    first = Stream(stream.spec, 300, 300)
    await publish_stream(bootstrap, *first.events())
    path = f"/v1/monitors/{stream.dataset}"
    before = await get_json(monitor, path, lambda s: s["counters"]["joined"] == 300)
    assert before["champion"] == 1
    # the latest labels wait for the horizon (every partition read that far)
    assert before["rolling"]["size"] + before["counters"]["queued_labels"] == 300

    await publish_lifecycle(bootstrap, stream, 2, stream.when(300))
    # the monitor takes the new champion at a batch of the dataset once it has read the
    # promotion (its model follower runs beside the loop): a vector at a time until then
    vectors, _predictions, _outcomes = Stream(stream.spec, 1, 1, seed=9).events(version=2)
    after: dict[str, Any] = {}
    for n in range(60):
        vector = vectors[0].model_copy(
            update={"event_id": f"features:after-{n}", "occurred_at": stream.when(301 + n)}
        )
        await publish_stream(bootstrap, [vector], [], [])
        after = await get_json(monitor, path, taken(300 + n))
        if after["champion"] == 2:
            break
    assert after["champion"] == 2
    assert after["samples"]["vectors"] <= 1
    assert after["rolling"]["size"] == 0
    assert (after["samples"]["scores"], after["samples"]["labelled"]) == (0, 0)
    assert after["pending_alarms"] == {}


async def test_an_unknown_dataset_is_a_404_with_the_reason(monitor: RunningService) -> None:
    async with httpx.AsyncClient(base_url=monitor.url) as http:
        answer = await http.get("/v1/monitors/nothing-here")
    assert answer.status_code == 404
    assert "no monitor for dataset 'nothing-here'" in answer.json()["detail"]
