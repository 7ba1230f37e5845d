"""The feature service's composition root: settings → telemetry → specs → store → consumers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from driftloop_contracts import (
    DATA_VALIDATED_TOPIC,
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    DataValidated,
    FeaturesComputed,
    OutcomeValidated,
)
from driftloop_feature.config import FeatureSettings
from driftloop_feature.handlers import store_labels, store_rows
from driftloop_feature.online import OnlineFeatures
from driftloop_offline import INDEXES, OfflineWriter
from driftloop_runtime import (
    ServiceParts,
    create_mongo_client,
    follow_specs,
    open_database,
    subscribe_batches,
)

__all__ = ["create_app"]


def create_app(settings: FeatureSettings) -> FastAPI:
    """The feature service: consumers started by the app, health and counters over HTTP."""
    parts = ServiceParts("feature", settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the client closes last, after the consumers that use it have stopped
        # The offline store's writes are idempotent (digest ids, unique subjects, $max) and a
        # failed batch comes again, so they need no retryable-write records.
        async with create_mongo_client(
            settings, appname="driftloop-feature", retry_writes=False
        ) as client:
            store = OfflineWriter(
                await open_database(client, settings, INDEXES),
                label_wait=timedelta(seconds=settings.label_wait_s),
            )
            online = OnlineFeatures(
                await follow_specs(parts),
                settings,
                max_entities=settings.max_entities,
            )
            # Three groups: the features themselves, and the offline store's two writers, which
            # consume the published vectors and the labels apart, so a slow store never holds a
            # prediction back; nothing waits on the writers, so they poll the broker less.
            group = settings.consumer_group
            subscribe_batches(
                parts,
                topic=DATA_VALIDATED_TOPIC,
                group_id=group,
                contract=DataValidated,
                handler=online.handle,
                partitions=online,
            )
            subscribe_batches(
                parts,
                topic=FEATURES_TOPIC,
                group_id=f"{group}-offline",
                contract=FeaturesComputed,
                handler=store_rows(store),
                fetch_max_wait_ms=settings.kafka_background_fetch_max_wait_ms,
            )
            subscribe_batches(
                parts,
                topic=OUTCOMES_VALIDATED_TOPIC,
                group_id=f"{group}-labels",
                contract=OutcomeValidated,
                handler=store_labels(store),
                fetch_max_wait_ms=settings.kafka_background_fetch_max_wait_ms,
            )
            app.state.online, app.state.store = online, store
            async with parts.running():
                yield

    app = FastAPI(title="driftloop feature service", version="1", lifespan=lifespan)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/stats", tags=["health"])
    async def stats() -> dict[str, int]:
        """Counts since start: events, late, too late, replayed, evicted, labels expired."""
        return {**app.state.online.counts, "labels_expired": app.state.store.labels_expired}

    return app
