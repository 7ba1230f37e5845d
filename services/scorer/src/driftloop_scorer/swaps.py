"""Hot swaps: each live alias change loads its version off the batch path and swaps it in, one
change at a time and in the order they came; a version that cannot serve is refused visibly
(logged, counted, shown at ``GET /v1/models`` and dead-lettered with the lifecycle record)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from opentelemetry import trace

from driftloop_runtime import TRANSIENT_ERRORS, ModelCatalog, ServedVersion, ServingChange
from driftloop_scorer.loading import ModelLoader, ModelRefusedError
from driftloop_scorer.serving import Refusal, ServedModel, ServingTable

__all__ = ["RefusalReporter", "Swapper"]

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("driftloop.scorer")

RefusalReporter = Callable[[Refusal], Awaitable[None]]
"""Reports a refusal further (the scorer dead-letters the lifecycle record)."""


class Swapper:
    """Keeps the serving table in step with the model catalog."""

    def __init__(
        self,
        table: ServingTable,
        loader: ModelLoader,
        report: RefusalReporter,
        *,
        retry_after_s: float = 1.0,
    ) -> None:
        """Swap ``loader``'s models into ``table``; ``report`` refusals; retry a load that met
        an unreachable store or broker after ``retry_after_s``."""
        self._table = table
        self._loader = loader
        self._report = report
        self._retry_after_s = retry_after_s
        self._lock = asyncio.Lock()  # one swap at a time, in the order the changes came
        self.ready = asyncio.Event()  # set once the versions serving at start are in

    async def load_serving(self, catalog: ModelCatalog) -> None:
        """Load every version serving when the scorer starts, then let batches through."""
        for dataset in catalog.datasets():
            for alias in ("champion", "shadow"):
                version = catalog.serving(dataset, alias)
                if version is not None:
                    await self._swap_in(version)
        self.ready.set()

    async def on_change(self, change: ServingChange) -> None:
        """The model catalog's live change handler."""
        if change.after is None:
            async with self._lock:
                self._table.retire(change.dataset, change.alias)
                logger.info("%s %s: retired, nothing serves it now", change.dataset, change.alias)
            return
        await self._swap_in(change.after)

    async def _swap_in(self, version: ServedVersion) -> None:
        async with self._lock:
            with tracer.start_as_current_span("swap", attributes=_attributes(version)) as span:
                try:
                    served = await self._load(version)
                except Exception as error:  # whatever it is, this version cannot serve
                    reason = str(error) if isinstance(error, ModelRefusedError) else repr(error)
                    span.set_attribute("driftloop.refused", reason)
                    await self._refuse(version, reason)
                    return
                self._table.install(served)
        logger.info(
            "%s %s: now version %s of %s",
            version.dataset,
            version.alias,
            version.version,
            version.model_name,
        )

    async def _load(self, version: ServedVersion) -> ServedModel:
        """Load ``version``, retrying while the store or the broker cannot be reached (that is
        not the version's fault, and refusing it would leave the alias unserved)."""
        while True:
            try:
                return await self._loader.load(version)
            except TRANSIENT_ERRORS:
                logger.exception("loading %s v%s; retrying", version.model_name, version.version)
                await asyncio.sleep(self._retry_after_s)

    async def _refuse(self, version: ServedVersion, reason: str) -> None:
        refusal = Refusal(
            dataset=version.dataset,
            alias=version.alias,
            model_name=version.model_name,
            version=version.version,
            event_id=version.event_id,
            reason=reason,
            at=datetime.now(UTC),
        )
        self._table.refuse(refusal)
        logger.error(
            "%s %s: refused version %s of %s (what served keeps serving): %s",
            version.dataset,
            version.alias,
            version.version,
            version.model_name,
            reason,
        )
        await self._report(refusal)


def _attributes(version: ServedVersion) -> dict[str, str | int]:
    return {
        "driftloop.dataset": version.dataset,
        "driftloop.alias": version.alias,
        "driftloop.model_name": version.model_name,
        "driftloop.model_version": version.version,
        "driftloop.cause_event_id": version.event_id,
    }
