"""The ingestion service's composition root: settings → telemetry → specs → broker → API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from driftloop_contracts import DataEvent, OutcomeEvent
from driftloop_ingestion.api import install_api
from driftloop_ingestion.config import IngestionSettings
from driftloop_ingestion.handlers import on_raw_events
from driftloop_ingestion.lanes import Intake
from driftloop_ingestion.publishing import ReportingPublisher
from driftloop_runtime import (
    EventPublisher,
    ServiceParts,
    SpecCatalog,
    follow_specs,
    subscribe_batches,
)

__all__ = ["CONSUMER_GROUP", "OUTCOMES_CONSUMER_GROUP", "create_app", "wire"]

CONSUMER_GROUP = "ingestion"
"""The consumer group of the raw data topic."""
OUTCOMES_CONSUMER_GROUP = "ingestion-outcomes"
"""The consumer group of the raw outcomes topic (its own, so neither waits on the other's
rebalances)."""


def wire(parts: ServiceParts, catalog: SpecCatalog, settings: IngestionSettings) -> Intake:
    """Subscribe both raw topics, judged against ``catalog``; return the intake they share.

    The parts' publisher is wrapped so that the intake learns what was published (the ids it
    de-duplicates on, its counters): call this before the parts start.
    """
    intake = Intake(
        catalog,
        max_event_bytes=settings.ingestion_max_event_bytes,
        dedup_capacity=settings.ingestion_dedup_capacity,
    )
    parts.publisher = ReportingPublisher(parts.publisher, intake.on_published)
    subscribe_batches(
        parts,
        topic=intake.data.topic,
        group_id=CONSUMER_GROUP,
        contract=DataEvent,
        handler=on_raw_events(intake.data),
    )
    subscribe_batches(
        parts,
        topic=intake.outcomes.topic,
        group_id=OUTCOMES_CONSUMER_GROUP,
        contract=OutcomeEvent,
        handler=on_raw_events(intake.outcomes),
    )
    return intake


def create_app(
    settings: IngestionSettings,
    *,
    publisher: Callable[[KafkaBroker], EventPublisher] | None = None,
) -> FastAPI:
    """Ingestion: the HTTP API plus the raw-topic consumers, started by the app's lifespan."""
    parts = ServiceParts("ingestion", settings, publisher=publisher)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        catalog = await follow_specs(parts)  # every spec applied so far, before any event
        app.state.intake = wire(parts, catalog, settings)
        app.state.publisher = parts.publisher
        async with parts.running():
            yield

    app = FastAPI(
        title="driftloop ingestion",
        version="1",
        lifespan=lifespan,
        description="Data and outcome events checked against their dataset spec.",
    )
    install_api(app, settings)
    return app
