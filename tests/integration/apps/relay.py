"""A minimal service built with the runtime factory, for the delivery tests.

It consumes data events, doubles their numeric fields and publishes them to another topic;
an event with the field ``explode`` makes the handler raise. ``DRIFTLOOP_DELAY_S`` holds each
batch before publishing and ``DRIFTLOOP_MARKER`` is written when a batch arrives, so a test can
kill or stop the process at that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faststream import FastStream

from driftloop_contracts import DataEvent
from driftloop_runtime import (
    BatchResult,
    Incoming,
    Outgoing,
    RuntimeSettings,
    ServiceParts,
    build_service,
    run_service,
    subscribe_batches,
)


class RelaySettings(RuntimeSettings):
    input_topic: str
    output_topic: str
    group_id: str
    delay_s: float = 0.0
    marker: Path | None = None


def doubled(event: DataEvent) -> DataEvent:
    if "explode" in event.fields:
        raise ValueError(f"event {event.event_id} asked to explode")
    fields = {
        name: value * 2 if isinstance(value, int | float) and not isinstance(value, bool) else value
        for name, value in event.fields.items()
    }
    return event.model_copy(
        update={
            "event_id": f"{event.event_id}.x2",
            "fields": fields,
            "causation_id": event.event_id,
            "producer": "relay",
        }
    )


def wire(settings: RelaySettings, **options: Any) -> ServiceParts:
    parts = ServiceParts("relay", settings, **options)

    async def handle(batch: Sequence[Incoming[DataEvent]]) -> BatchResult:
        if settings.marker is not None:
            settings.marker.write_text(str(len(batch)))
        await asyncio.sleep(settings.delay_s)
        return BatchResult(
            outputs=[
                Outgoing(
                    settings.output_topic, item.event.entity_id, doubled(item.event), item.source
                )
                for item in batch
            ]
        )

    subscribe_batches(
        parts,
        topic=settings.input_topic,
        group_id=settings.group_id,
        contract=DataEvent,
        handler=handle,
    )
    return parts


def create_app(settings: RelaySettings) -> FastStream:
    return build_service(wire(settings))


if __name__ == "__main__":
    run_service(lambda: create_app(RelaySettings()))
