"""Assembling and running a service: settings → telemetry → broker → handlers → app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from faststream import FastStream
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from driftloop_runtime.kafka import create_broker
from driftloop_runtime.publishing import EventPublisher, KafkaEventPublisher
from driftloop_runtime.settings import RuntimeSettings
from driftloop_runtime.telemetry import setup_telemetry

__all__ = ["ServiceParts", "build_service", "run_service"]


class ServiceParts:
    """What a service's composition root wires its handlers to."""

    def __init__(
        self,
        name: str,
        settings: RuntimeSettings,
        *,
        publisher: Callable[[KafkaBroker], EventPublisher] | None = None,
    ) -> None:
        """Set up telemetry for ``name``, a broker that consumes, and a publisher for outputs.

        ``publisher`` swaps the Kafka publisher for another, e.g. ``BrokerEventPublisher`` so
        that FastStream's in-memory test broker sees what the handlers publish. Nothing
        connects until ``start``.
        """
        self.name = name
        self.settings = settings
        self.tracer_provider: TracerProvider = setup_telemetry(name, settings)
        client_id = f"driftloop-{name}"
        self.broker: KafkaBroker = create_broker(settings, client_id=client_id)
        self.publisher: EventPublisher = (
            publisher(self.broker)
            if publisher
            else KafkaEventPublisher(
                settings, client_id=client_id, tracer_provider=self.tracer_provider
            )
        )

    async def start(self) -> None:
        """Connect the publisher, then start consuming."""
        await self.publisher.start()
        await self.broker.start()

    async def stop(self) -> None:
        """Stop consuming (the batch in hand is finished), then flush and close the publisher."""
        await self.broker.stop()
        await self.publisher.stop()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start, and on the way out stop and flush the spans: the body of a service's
        lifespan once its handlers are wired."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()
            self.tracer_provider.shutdown()


def build_service(parts: ServiceParts) -> FastStream:
    """The FastStream app of a service; on shutdown it flushes the service's spans.

    FastStream stops on SIGTERM or SIGINT: the broker stops fetching, the batch in hand is
    finished, published and committed (up to ``graceful_timeout_s``), then the app exits.
    """
    app = FastStream(parts.broker)
    app.on_startup(parts.publisher.start)
    app.after_shutdown(parts.publisher.stop)
    app.after_shutdown(parts.tracer_provider.shutdown)
    return app


def run_service(create_app: Callable[[], FastStream]) -> None:
    """Run a service's app until SIGTERM/SIGINT (the ``python -m`` entry of every service)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(create_app().run())
