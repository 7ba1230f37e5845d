"""The dataset specs a service works with, kept current from ``spec applied`` events."""

from __future__ import annotations

import logging

from driftloop_contracts import SPECS_TOPIC, SpecApplied
from driftloop_runtime.broadcast import read_topic, subscribe_broadcast
from driftloop_runtime.service import ServiceParts
from driftloop_spec import DatasetSpec, SpecError

__all__ = ["SpecCatalog", "follow_specs"]

logger = logging.getLogger(__name__)


class SpecCatalog:
    """The newest applied spec of every dataset (pure: fed ``SpecApplied`` events)."""

    def __init__(self) -> None:
        """An empty catalog."""
        self._specs: dict[str, tuple[int, DatasetSpec]] = {}

    def apply(self, event: SpecApplied) -> bool:
        """Take ``event``'s spec if it is newer than the one held; ``True`` if it was taken.

        An event whose digest does not match its document, or whose document is not a valid
        spec, is refused (logged) and the catalog keeps what it had.
        """
        held = self._specs.get(event.dataset)
        if held is not None and held[0] >= event.spec_version:
            return False
        if not event.digest_matches():
            logger.error("spec %s v%s: digest mismatch, ignored", event.dataset, event.spec_version)
            return False
        try:
            spec = DatasetSpec.from_document(event.spec, source=f"spec applied {event.event_id}")
        except SpecError as error:
            logger.error(
                "spec %s v%s is not valid here, ignored: %s",
                event.dataset,
                event.spec_version,
                error,
            )
            return False
        self._specs[event.dataset] = (event.spec_version, spec)
        return True

    async def on_applied(self, event: SpecApplied) -> None:
        """``apply``, as a broadcast handler."""
        if self.apply(event):
            logger.info("now on spec %s version %s", event.dataset, event.spec_version)

    def get(self, dataset: str) -> tuple[int, DatasetSpec] | None:
        """The newest spec of ``dataset`` and its version, if one was applied."""
        return self._specs.get(dataset)

    def datasets(self) -> list[str]:
        """The datasets with a spec, in name order."""
        return sorted(self._specs)


async def follow_specs(parts: ServiceParts) -> SpecCatalog:
    """A catalog filled with every spec applied so far, and kept current while the service runs.

    Call it before the service starts consuming data, so that no event is judged against a
    missing spec because the catalog had not caught up yet.
    """
    catalog = SpecCatalog()
    for event in await read_topic(parts.settings, SPECS_TOPIC, SpecApplied):
        catalog.apply(event)
    subscribe_broadcast(parts, topic=SPECS_TOPIC, contract=SpecApplied, handler=catalog.on_applied)
    return catalog
