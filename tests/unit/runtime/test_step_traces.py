"""Control-topic steps run in the trace of the event they handle, not of the consumed batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanContext, TraceFlags, format_trace_id

from driftloop_contracts import DataEvent
from driftloop_runtime import Incoming, Outgoing, SourceRecord, one_by_one

pytestmark = pytest.mark.unit

UPSTREAM = SpanContext(
    trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
    span_id=0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
)


def incoming(offset: int, *, traced: bool) -> Incoming[DataEvent]:
    carrier: dict[str, str] = {}
    if traced:
        propagate.inject(carrier, trace.set_span_in_context(trace.NonRecordingSpan(UPSTREAM)))
    event = DataEvent(
        event_id=f"evt-{offset}",
        dataset="cards",
        entity_id="card-1",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        fields={"amount": 1.0},
    )
    headers = tuple((k, v.encode()) for k, v in carrier.items())
    source = SourceRecord("in", 0, offset, b"card-1", event.model_dump_json().encode(), headers)
    return Incoming(event, source)


async def test_each_step_sees_its_events_trace_and_a_step_without_one_keeps_the_batchs() -> None:
    tracer = TracerProvider().get_tracer("test")
    seen: dict[str, str] = {}

    async def step(event: DataEvent) -> list[Outgoing]:
        context = trace.get_current_span().get_span_context()
        seen[event.event_id] = format_trace_id(context.trace_id)
        return [Outgoing("out", event.entity_id, event)]

    with tracer.start_as_current_span("batch process") as batch_span:
        result = await one_by_one(step)([incoming(1, traced=True), incoming(2, traced=False)])
        batch_trace = format_trace_id(batch_span.get_span_context().trace_id)
        assert trace.get_current_span() is batch_span  # current again after the steps

    assert seen == {"evt-1": format_trace_id(UPSTREAM.trace_id), "evt-2": batch_trace}
    assert [o.cause.offset for o in result.outputs if o.cause] == [1, 2]
