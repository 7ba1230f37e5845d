"""The topic registry is complete and consistent."""

from __future__ import annotations

import dataclasses
import re

import pytest

import driftloop_contracts as contracts
from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    DEAD_LETTER_TOPIC,
    EVENTS,
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PREDICTIONS_TOPIC,
    TOPICS,
    DataEvent,
    PredictionMade,
    topic_for,
)
from driftloop_contracts.registry import UnknownEventTypeError
from driftloop_contracts.topics import ENTITY_PARTITIONS

pytestmark = pytest.mark.unit

SERVICES = {"ingestion", "feature", "scorer", "monitor", "trainer", "registry"}


def test_each_event_type_has_exactly_one_topic() -> None:
    assert sorted(t.event_type for t in TOPICS) == sorted(EVENTS)
    assert len({t.name for t in TOPICS}) == len(TOPICS)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_topic_name_ends_with_the_event_major_version(topic: contracts.Topic) -> None:
    assert re.fullmatch(r"driftloop\.[a-z.-]+\.v\d+", topic.name)
    assert topic.name.endswith(f".v{topic.event.major_version()}")


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_topic_has_partitions_producers_and_a_constant(topic: contracts.Topic) -> None:
    expected = 1 if topic.key == "dataset" else ENTITY_PARTITIONS
    assert topic.partitions == expected
    assert topic.producers
    constants = {getattr(contracts, n) for n in contracts.__all__ if n.endswith("_TOPIC")}
    assert topic.name in constants


def test_every_service_takes_part() -> None:
    parties = {who for t in TOPICS for who in (*t.producers, *t.consumers)}
    assert parties >= SERVICES


def test_joined_topics_are_co_partitioned() -> None:
    joined = (DATA_VALIDATED_TOPIC, FEATURES_TOPIC, PREDICTIONS_TOPIC, OUTCOMES_VALIDATED_TOPIC)
    assert len({t.partitions for t in TOPICS if t.name in joined}) == 1


def test_topic_for_accepts_a_class_or_an_event_type() -> None:
    assert topic_for(DataEvent).name == DATA_TOPIC == "driftloop.data.v1"
    assert topic_for("prediction") is topic_for(PredictionMade)
    assert topic_for("deadletter").name == DEAD_LETTER_TOPIC
    with pytest.raises(UnknownEventTypeError):
        topic_for("nope")


def test_topics_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOPICS[0].partitions = 12  # type: ignore[misc]
