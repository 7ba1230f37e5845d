"""The monitor's composition root: settings → telemetry → specs, models, references →
checkpoint store → the consuming loop → API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from driftloop_contracts import SPECS_TOPIC, SpecApplied
from driftloop_monitor.api import router
from driftloop_monitor.checkpoints import CheckpointStore
from driftloop_monitor.config import MonitorSettings
from driftloop_monitor.consumer import MonitorLoop
from driftloop_monitor.monitors import Monitors
from driftloop_monitor.references import (
    ReferenceBook,
    catch_up_on_references,
    follow_references,
)
from driftloop_runtime import (
    ModelCatalog,
    ServiceParts,
    SpecCatalog,
    create_mongo_client,
    follow_models,
    follow_specs,
    read_topic,
)
from driftloop_runtime.models import read_models

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: MonitorSettings) -> FastAPI:
    """The monitor: its loop started by the app; health, counters and monitors over HTTP."""
    parts = ServiceParts("monitor", settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with create_mongo_client(settings, appname="driftloop-monitor") as client:
            await client.admin.command("ping")
            database = client[settings.mongo_database]
            checkpoints = CheckpointStore(database, keep=settings.checkpoint_keep)
            specs = await follow_specs(parts)
            references = await follow_references(parts)
            models = await follow_models(parts)

            async def catch_up() -> None:
                await _catch_up(settings, specs, references, models)

            monitors = Monitors(settings.policy(), specs, models, references, catch_up)
            loop = MonitorLoop(settings, monitors, parts.publisher, checkpoints)
            app.state.loop, app.state.checkpoints = loop, checkpoints
            stopping = asyncio.Event()
            async with parts.running():
                task = asyncio.create_task(loop.run(stopping))
                task.add_done_callback(_log_failure)
                app.state.loop_task = task
                try:
                    yield
                finally:
                    # the batch in hand is finished and published, the last checkpoint written
                    stopping.set()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = FastAPI(title="driftloop monitor", version="1", lifespan=lifespan)
    app.include_router(router)
    return app


def _log_failure(task: asyncio.Task[None]) -> None:
    # /healthz answers 503 from now on, so a supervisor restarts the process from its checkpoint
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.critical("the monitor's loop stopped", exc_info=error)


async def _catch_up(
    settings: MonitorSettings, specs: SpecCatalog, book: ReferenceBook, models: ModelCatalog
) -> None:
    for event in await read_topic(settings, SPECS_TOPIC, SpecApplied):
        specs.apply(event)
    await read_models(settings, models)
    await catch_up_on_references(settings, book)
