"""Monitors: a dataset's events are not skipped for what the topics have already said."""

from __future__ import annotations

import pytest

from driftloop_contracts import ModelPromoted
from driftloop_monitor.config import MonitorSettings
from driftloop_monitor.monitors import Monitors
from driftloop_monitor.references import ReferenceBook
from driftloop_runtime import ModelCatalog, SpecCatalog
from tests.integration.feature.stream import fraud_spec
from tests.integration.monitor.stream import Stream, lifecycle

pytestmark = pytest.mark.unit


def promotion(stream: Stream) -> ModelPromoted:
    (event,) = [e for _, e in lifecycle(stream, 1, stream.when(0)) if isinstance(e, ModelPromoted)]
    return event


def monitors_of(stream: Stream, on_the_topics: ModelPromoted | None) -> tuple[Monitors, list[int]]:
    """Monitors that know the spec but not yet the champion; catching up reads the promotion
    if it is ``on_the_topics``. The list counts the catch-ups."""
    specs, models, calls = SpecCatalog(), ModelCatalog(), []
    specs.apply(fraud_spec(stream.dataset)[1])

    async def catch_up() -> None:
        calls.append(1)
        if on_the_topics is not None:
            models.apply(on_the_topics)

    return Monitors(MonitorSettings().policy(), specs, models, ReferenceBook(), catch_up), calls


async def test_events_before_the_follower_delivers_the_champion_catch_up_on_it() -> None:
    stream = Stream(fraud_spec("cards")[0], 10, 10)
    monitors, calls = monitors_of(stream, promotion(stream))

    monitor = await monitors.ready(stream.dataset, 10, predicted=True)

    assert monitor is not None
    assert monitors.skipped == {}
    assert len(calls) == 1


async def test_predictions_without_a_champion_read_the_topics_again_once() -> None:
    stream = Stream(fraud_spec("cards")[0], 10, 10)
    monitors, calls = monitors_of(stream, None)

    assert await monitors.ready(stream.dataset, 10, predicted=True) is None
    assert await monitors.ready(stream.dataset, 5, predicted=True) is None

    assert len(calls) == 1
    assert monitors.skipped == {(stream.dataset, "no_champion"): 15}


async def test_vectors_before_any_champion_are_skipped_without_reading_again() -> None:
    stream = Stream(fraud_spec("cards")[0], 10, 10)
    monitors, calls = monitors_of(stream, promotion(stream))

    assert await monitors.ready(stream.dataset, 10) is None  # a dataset still bootstrapping

    assert calls == []
    assert monitors.skipped == {(stream.dataset, "no_champion"): 10}
