"""Which training reference each model version was trained with, from the lifecycle topics.

A version's reference travels in two events: ``ModelRegistered`` (dataset, version -> run) and
the run's ``TrainingCompleted`` (run -> reference statistics). Both topics are small and keyed by
dataset; every monitor reads them whole at start, then follows them (no consumer group).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping

from driftloop_contracts import (
    MODELS_REGISTERED_TOPIC,
    TRAININGS_TOPIC,
    ModelRegistered,
    NumericReference,
    TrainingCompleted,
)
from driftloop_runtime import RuntimeSettings, ServiceParts, read_topic, subscribe_broadcast

__all__ = ["ReferenceBook", "catch_up_on_references", "follow_references"]

logger = logging.getLogger(__name__)

Reference = Mapping[str, NumericReference]


class ReferenceBook:
    """Version -> run, and run -> reference (pure: fed the two events). Runs are many and
    their references large, so only the newest ``max_runs`` runs' references are kept: a
    version served long after hundreds of newer runs is monitored without a reference."""

    def __init__(self, max_runs: int = 256) -> None:
        self._runs: dict[tuple[str, int], str] = {}
        self._references: OrderedDict[str, Reference] = OrderedDict()
        self._max_runs = max_runs

    def registered(self, event: ModelRegistered) -> None:
        self._runs[(event.dataset, event.version)] = event.run_id

    def trained(self, event: TrainingCompleted) -> None:
        if event.status != "succeeded":
            return
        # categorical summaries are not what the trainer writes for model columns; the
        # monitor compares columns binned over numeric edges only
        numeric = {n: r for n, r in event.reference.items() if isinstance(r, NumericReference)}
        self._references[event.run_id] = numeric
        self._references.move_to_end(event.run_id)
        while len(self._references) > self._max_runs:
            self._references.popitem(last=False)

    def reference(self, dataset: str, version: int) -> Reference | None:
        """The reference ``version`` of ``dataset`` was trained with; ``None`` if unknown."""
        run = self._runs.get((dataset, version))
        return self._references.get(run) if run is not None else None

    async def on_registered(self, event: ModelRegistered) -> None:
        self.registered(event)

    async def on_trained(self, event: TrainingCompleted) -> None:
        self.trained(event)


async def catch_up_on_references(settings: RuntimeSettings, book: ReferenceBook) -> None:
    """Read both topics whole into ``book``: at start, and again when a served version's
    reference is missing (its promotion was read before its registration or its run)."""
    for trained in await read_topic(settings, TRAININGS_TOPIC, TrainingCompleted):
        book.trained(trained)
    for registered in await read_topic(settings, MODELS_REGISTERED_TOPIC, ModelRegistered):
        book.registered(registered)


async def follow_references(parts: ServiceParts, max_runs: int = 256) -> ReferenceBook:
    """A book filled from both topics so far, and kept current while the service runs."""
    book = ReferenceBook(max_runs)
    await catch_up_on_references(parts.settings, book)
    subscribe_broadcast(
        parts, topic=TRAININGS_TOPIC, contract=TrainingCompleted, handler=book.on_trained
    )
    subscribe_broadcast(
        parts, topic=MODELS_REGISTERED_TOPIC, contract=ModelRegistered, handler=book.on_registered
    )
    return book
