"""The trainer's composition root: settings → telemetry → specs, champions → stores → consumers
and worker → health, stats and runs over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_artifacts import GridFSArtifactStore, key_from_secret
from driftloop_contracts import DRIFT_TOPIC, TRAIN_REQUESTS_TOPIC, DriftDetected, TrainRequested
from driftloop_offline import INDEXES as OFFLINE_INDEXES
from driftloop_offline import OfflineReader
from driftloop_runtime import (
    EventPublisher,
    ServiceParts,
    SpecCatalog,
    create_mongo_client,
    follow_specs,
    open_database,
    subscribe_batches,
)
from driftloop_runtime.models import ModelCatalog, follow_models
from driftloop_runtime.mongo import Document
from driftloop_trainer.champion import ChampionLoader
from driftloop_trainer.clock import Clock, utc_now
from driftloop_trainer.config import TrainerSettings
from driftloop_trainer.handlers import record_triggers
from driftloop_trainer.lease import LeaseStore
from driftloop_trainer.runner import Runner
from driftloop_trainer.store import INDEXES, RunStore, TriggerStore
from driftloop_trainer.triggers import from_drift, from_request
from driftloop_trainer.version import code_version
from driftloop_trainer.worker import Worker

__all__ = ["assemble", "create_app"]


def create_app(settings: TrainerSettings) -> FastAPI:
    """The trainer: trigger consumers and the training loop, started by the app; health,
    counters and recent runs over HTTP."""
    parts = ServiceParts("trainer", settings)
    key = settings.artifact_signing_key
    signing_key = key_from_secret(key.get_secret_value()) if key is not None else None
    version = code_version()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the client closes last, after the worker and the consumers that use it have stopped
        async with create_mongo_client(settings, appname="driftloop-trainer") as client:
            # the offline store's indexes too: reading it without them would scan
            database = await open_database(client, settings, {**INDEXES, **OFFLINE_INDEXES})
            worker = await _worker(parts, settings, database, signing_key, version)
            group = settings.consumer_group
            subscribe_batches(
                parts,
                topic=TRAIN_REQUESTS_TOPIC,
                group_id=group,
                contract=TrainRequested,
                handler=record_triggers(TriggerStore(database), from_request, worker.noticed),
                fetch_max_wait_ms=settings.kafka_control_fetch_max_wait_ms,
            )
            subscribe_batches(
                parts,
                topic=DRIFT_TOPIC,
                group_id=f"{group}-drift",
                contract=DriftDetected,
                handler=record_triggers(TriggerStore(database), from_drift, worker.noticed),
                fetch_max_wait_ms=settings.kafka_control_fetch_max_wait_ms,
            )
            app.state.worker, app.state.runs = worker, RunStore(database)
            async with parts.running(), worker.running():
                yield

    app = FastAPI(title="driftloop trainer", version="1", lifespan=lifespan)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/stats", tags=["health"])
    async def stats() -> dict[str, int]:
        """Counts since start: runs, succeeded, failed, coalesced triggers, triggers recorded,
        lease busy, abandoned and republished runs, dropped triggers."""
        return dict(app.state.worker.counts)

    @app.get("/v1/runs", tags=["runs"])
    async def runs(
        dataset: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 20
    ) -> list[dict[str, Any]]:
        """The latest training runs (of ``dataset``), newest first: triggers, outcome, metrics,
        data window, durations, code version."""
        found: list[dict[str, Any]] = await app.state.runs.recent(dataset, limit)
        return found

    return app


async def _worker(
    parts: ServiceParts,
    settings: TrainerSettings,
    database: AsyncDatabase[Document],
    signing_key: bytes | None,
    version: str,
) -> Worker:
    """The worker, the spec and model catalogs caught up and followed."""
    return assemble(
        settings,
        database,
        specs=await follow_specs(parts),
        models=await follow_models(parts),
        publisher=parts.publisher,
        signing_key=signing_key,
        code_version=version,
    )


def assemble(
    settings: TrainerSettings,
    database: AsyncDatabase[Document],
    *,
    specs: SpecCatalog,
    models: ModelCatalog,
    publisher: EventPublisher,
    signing_key: bytes | None,
    code_version: str,
    clock: Clock = utc_now,
) -> Worker:
    """The worker and the stores and runner it works with, all in ``database``."""
    artifacts = GridFSArtifactStore(database)
    champions = ChampionLoader(models, artifacts, signing_key)
    offline = OfflineReader(database, max_rows=settings.max_training_rows)
    triggers, runs = TriggerStore(database), RunStore(database)
    runner = Runner(
        offline=offline,
        champions=champions,
        artifacts=artifacts,
        runs=runs,
        triggers=triggers,
        publisher=publisher,
        signing_key=signing_key,
        bins=settings.reference_bins,
        model_threads=settings.model_threads,
        clock=clock,
    )
    return Worker(
        settings,
        specs=specs,
        champions=champions,
        offline=offline,
        triggers=triggers,
        runs=runs,
        leases=LeaseStore(database, ttl=timedelta(seconds=settings.lease_s)),
        runner=runner,
        code_version=code_version,
        clock=clock,
    )
