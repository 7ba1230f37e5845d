"""The registry's composition root: settings → telemetry → store → broker → API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from driftloop_contracts import (
    PERFORMANCE_TOPIC,
    TRAININGS_TOPIC,
    PerformanceReported,
    TrainingCompleted,
)
from driftloop_registry.api import install_api
from driftloop_registry.artifacts import artifact_checker, artifact_store
from driftloop_registry.config import RegistrySettings
from driftloop_registry.registry import Registry
from driftloop_registry.store import INDEXES, RegistryStore
from driftloop_runtime import (
    ServiceParts,
    create_mongo_client,
    one_by_one,
    open_database,
    subscribe_batches,
)

__all__ = ["CONSUMER_GROUP", "create_app"]

CONSUMER_GROUP = "registry"


def create_app(settings: RegistrySettings) -> FastAPI:
    """The registry: REST API plus the ``training completed`` consumer, started by the app."""
    parts = ServiceParts("registry", settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the client closes last, after the consumers that use it have stopped
        async with create_mongo_client(settings, appname="driftloop-registry") as client:
            database = await open_database(client, settings, INDEXES)
            app.state.store = store = RegistryStore(database)
            app.state.artifacts = artifacts = await artifact_store(database)
            app.state.registry = registry = Registry(store, artifact_checker(artifacts, settings))
            app.state.publisher = parts.publisher
            subscribe_batches(
                parts,
                topic=TRAININGS_TOPIC,
                group_id=CONSUMER_GROUP,
                contract=TrainingCompleted,
                handler=one_by_one(registry.register_training),
                fetch_max_wait_ms=settings.kafka_control_fetch_max_wait_ms,
            )
            subscribe_batches(
                parts,
                topic=PERFORMANCE_TOPIC,
                group_id=f"{CONSUMER_GROUP}-performance",
                contract=PerformanceReported,
                handler=one_by_one(registry.review_shadow),
                fetch_max_wait_ms=settings.kafka_control_fetch_max_wait_ms,
            )
            async with parts.running():
                yield

    app = FastAPI(
        title="driftloop registry",
        version="1",
        lifespan=lifespan,
        description="Dataset specs, model versions, lineage, runs, aliases and audit.",
    )
    app.state.settings = settings
    install_api(app)
    return app
