"""The scorer's composition root: settings → telemetry → specs and models → consumers → API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from driftloop_artifacts import GridFSArtifactStore, key_from_secret
from driftloop_contracts import FEATURES_TOPIC, FeaturesComputed
from driftloop_runtime import (
    ServiceParts,
    create_mongo_client,
    follow_models,
    follow_specs,
    subscribe_batches,
)
from driftloop_scorer.api import router
from driftloop_scorer.config import ScorerSettings
from driftloop_scorer.handlers import catch_up_on_specs, dead_letter_refusals, score_vectors
from driftloop_scorer.loading import ModelLoader
from driftloop_scorer.online import RecentEvents, follow_validated
from driftloop_scorer.scoring import Scorer
from driftloop_scorer.serving import ServingTable
from driftloop_scorer.swaps import Swapper

__all__ = ["create_app"]


def create_app(settings: ScorerSettings) -> FastAPI:
    """The scorer: consumers started by the app; predict, models and counters over HTTP."""
    parts = ServiceParts("scorer", settings)
    key = settings.artifact_signing_key
    signing_key = key_from_secret(key.get_secret_value()) if key is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with create_mongo_client(settings, appname="driftloop-scorer") as client:
            table = ServingTable()
            scorer = Scorer(
                lambda: table.current,
                warmup_rows=settings.warmup_rows,
                no_model_log_s=settings.no_model_log_s,
                model_threads=settings.model_threads,
            )
            specs = await follow_specs(parts)
            loader = ModelLoader(
                GridFSArtifactStore(client[settings.mongo_database]),
                specs,
                signing_key=signing_key,
                warmup_rows=settings.warmup_rows,
                sample=scorer.recent,
                model_threads=settings.model_threads,
                catch_up=lambda: catch_up_on_specs(settings, specs),
            )
            report = dead_letter_refusals(settings, parts.publisher, settings.consumer_group)
            swapper = Swapper(
                table, loader, report, retry_after_s=settings.transient_error_backoff_s
            )
            catalog = await follow_models(parts, swapper.on_change)
            subscribe_batches(
                parts,
                topic=FEATURES_TOPIC,
                group_id=settings.consumer_group,
                contract=FeaturesComputed,
                handler=score_vectors(scorer, swapper.ready),
            )
            recent = RecentEvents(
                specs,
                max_entities=settings.max_entities,
                max_events_per_entity=settings.max_events_per_entity,
                enabled=settings.predict_state,
            )
            app.state.scorer, app.state.table, app.state.specs = scorer, table, specs
            app.state.recent = recent
            # the versions serving now load while the API answers; batches wait for them
            background = [swapper.load_serving(catalog)]
            if settings.predict_state:
                background.append(follow_validated(settings, recent))
            async with parts.running(), _tasks(*background):
                yield

    app = FastAPI(title="driftloop scorer", version="1", lifespan=lifespan)
    app.include_router(router)
    return app


@asynccontextmanager
async def _tasks(*work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``work`` in the background while the scorer runs; cancel what is left at the end."""
    tasks = [asyncio.create_task(coroutine) for coroutine in work]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
