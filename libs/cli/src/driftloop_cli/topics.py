"""Creating driftloop's topics from the contracts' topic registry."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from driftloop_contracts.topics import TOPICS, Topic
from driftloop_runtime import RuntimeSettings
from driftloop_runtime.kafka import client_options

__all__ = ["TOPIC_ALREADY_EXISTS", "create_topics"]

TOPIC_ALREADY_EXISTS = 36
"""Kafka's error code for a topic that exists: creating it again is not an error here."""


async def create_topics(
    settings: RuntimeSettings, topics: Iterable[Topic] = TOPICS, *, replication: int = 1
) -> list[str]:
    """Create each topic with its registered partition count; return the names newly created.

    Idempotent: topics that exist already are left as they are.
    """
    wanted = [NewTopic(t.name, t.partitions, replication) for t in topics]
    admin = AIOKafkaAdminClient(**client_options(settings), client_id="driftloop-topics")
    await admin.start()
    try:
        response = await admin.create_topics(wanted)
    finally:
        await admin.close()
    created = []
    for name, code, message in response.topic_errors:
        if code not in (0, TOPIC_ALREADY_EXISTS):
            raise RuntimeError(f"could not create topic {name}: {message} (error {code})")
        if code == 0:
            created.append(name)
    return created
