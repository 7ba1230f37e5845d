"""The model versions each dataset serves, kept current from the registry's lifecycle events.

The scorer and the trainer learn which version is ``champion`` (and which is ``shadow``) from the
log, not by asking the registry: at start they replay the promoted, rolled-back and retired
topics, then follow them. Events of the three topics are merged by ``occurred_at`` (the
registry is their one writer), and an event older than the one that last set an alias is
ignored, so a replay, a duplicate or a late read never moves an alias backwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from driftloop_contracts import (
    MODELS_PROMOTED_TOPIC,
    MODELS_RETIRED_TOPIC,
    MODELS_ROLLED_BACK_TOPIC,
    ModelPromoted,
    ModelRetired,
    ModelRolledBack,
)
from driftloop_runtime.broadcast import read_topic, subscribe_broadcast
from driftloop_runtime.service import ServiceParts
from driftloop_runtime.settings import RuntimeSettings

__all__ = [
    "LifecycleEvent",
    "ModelCatalog",
    "ServedVersion",
    "ServingAlias",
    "ServingChange",
    "follow_models",
    "read_models",
]

logger = logging.getLogger(__name__)

ServingAlias = Literal["champion", "shadow"]
"""An alias that serves predictions: the champion's are acted on, a shadow's are compared."""

LifecycleEvent = ModelPromoted | ModelRolledBack | ModelRetired
"""A registry event that moves a serving alias."""

ChangeHandler = Callable[["ServingChange"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServedVersion:
    """A model version holding a serving alias, and the lifecycle event that gave it the alias.

    Attributes:
        dataset: The dataset it serves.
        model_name: Its registered model name.
        version: Its version number.
        alias: ``champion`` or ``shadow``.
        artifact_sha256: SHA-256 of its artifact, checked before loading.
        artifact_uri: Where its artifact is stored; ``None`` if the event did not say.
        event_id: The lifecycle event that set the alias.
        occurred_at: When that event happened.
    """

    dataset: str
    model_name: str
    version: int
    alias: ServingAlias
    artifact_sha256: str
    artifact_uri: str | None
    event_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ServingChange:
    """An alias of a dataset that moved: what held it before and what holds it now.

    Attributes:
        dataset: The dataset.
        alias: The alias that moved.
        before: The version that held it, if any.
        after: The version that holds it now; ``None`` when it was retired.
        cause: The lifecycle event that moved it.
    """

    dataset: str
    alias: ServingAlias
    before: ServedVersion | None
    after: ServedVersion | None
    cause: LifecycleEvent


@dataclass(frozen=True, slots=True)
class _Slot:
    """What holds an alias now (``None`` when retired) and when that was decided."""

    held_by: ServedVersion | None
    decided_at: datetime
    event_id: str


class ModelCatalog:
    """Which version holds each serving alias of each dataset (pure: fed lifecycle events)."""

    def __init__(self) -> None:
        """An empty catalog: nothing serves."""
        self._slots: dict[tuple[str, ServingAlias], _Slot] = {}

    def apply(self, event: LifecycleEvent) -> ServingChange | None:
        """Move the alias ``event`` names; return the change, or ``None`` if the event is not
        newer than the one that last moved that alias (a replay or a duplicate)."""
        key = (event.dataset, event.alias)
        slot = self._slots.get(key)
        if slot is not None and (
            slot.event_id == event.event_id or slot.decided_at > event.occurred_at
        ):
            return None
        after = None if isinstance(event, ModelRetired) else _served(event)
        self._slots[key] = _Slot(after, event.occurred_at, event.event_id)
        before = slot.held_by if slot is not None else None
        return ServingChange(event.dataset, event.alias, before, after, event)

    def apply_all(self, events: Iterable[LifecycleEvent]) -> None:
        """Apply ``events`` in the order they happened, whatever order they come in."""
        for event in sorted(events, key=lambda e: e.occurred_at):
            self.apply(event)

    def serving(self, dataset: str, alias: ServingAlias = "champion") -> ServedVersion | None:
        """The version holding ``alias`` for ``dataset``, if one does."""
        slot = self._slots.get((dataset, alias))
        return slot.held_by if slot is not None else None

    def datasets(self) -> list[str]:
        """The datasets where some version holds a serving alias, in name order."""
        return sorted({dataset for (dataset, _), slot in self._slots.items() if slot.held_by})


def _served(event: ModelPromoted | ModelRolledBack) -> ServedVersion:
    return ServedVersion(
        dataset=event.dataset,
        model_name=event.model_name,
        version=event.version,
        alias=event.alias,
        artifact_sha256=event.artifact_sha256,
        artifact_uri=event.artifact_uri,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
    )


_LIFECYCLE_TOPICS: tuple[tuple[str, type[LifecycleEvent]], ...] = (
    (MODELS_PROMOTED_TOPIC, ModelPromoted),
    (MODELS_ROLLED_BACK_TOPIC, ModelRolledBack),
    (MODELS_RETIRED_TOPIC, ModelRetired),
)


async def read_models(settings: RuntimeSettings, catalog: ModelCatalog) -> None:
    """Apply every lifecycle event so far to ``catalog``: a follower's replay at start, or a
    catch-up for a consumer that met a model's output before its follower delivered the model
    (the topics are not ordered with one another)."""
    replayed: list[LifecycleEvent] = []
    for topic, contract in _LIFECYCLE_TOPICS:
        replayed.extend(await read_topic(settings, topic, contract))
    catalog.apply_all(replayed)


async def follow_models(
    parts: ServiceParts, on_change: ChangeHandler | None = None
) -> ModelCatalog:
    """A catalog filled from every lifecycle event so far, and kept current while the service
    runs; ``on_change`` hears of each live change (not of the replay at start).

    Call it before the service starts consuming, so the first batch already sees the champions.
    """
    catalog = ModelCatalog()
    await read_models(parts.settings, catalog)

    async def on_event(event: LifecycleEvent) -> None:
        change = catalog.apply(event)
        if change is None:
            return
        logger.info(
            "%s %s: %s -> %s",
            change.dataset,
            change.alias,
            change.before.version if change.before else None,
            change.after.version if change.after else None,
        )
        if on_change is not None:
            await on_change(change)

    for topic, contract in _LIFECYCLE_TOPICS:
        subscribe_broadcast(parts, topic=topic, contract=contract, handler=on_event)
    return catalog
