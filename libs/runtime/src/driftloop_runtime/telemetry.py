"""OpenTelemetry set-up: OTLP when a collector is configured, a JSON-lines file otherwise."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    Link,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
    format_span_id,
    format_trace_id,
)

from driftloop_runtime.records import SourceRecord
from driftloop_runtime.settings import RuntimeSettings

__all__ = [
    "MAX_LINKS",
    "JsonLinesSpanExporter",
    "batch_links",
    "consume_span",
    "setup_telemetry",
    "span_record",
    "traced",
]

MAX_LINKS = 128
"""Links per span: the SDK's default limit drops the rest."""


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as a JSON line, so the embedded default keeps its traces."""

    def __init__(self, path: Path) -> None:
        """Export to ``path``, creating its folder if needed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write ``spans`` as compact JSON lines."""
        lines = "".join(
            json.dumps(span_record(span), separators=(",", ":"), default=_plain) + "\n"
            for span in spans
        )
        with self._lock:
            self._file.write(lines)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()


P = ParamSpec("P")
R = TypeVar("R")


def traced(span_name: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run an async domain step (train, evaluate, promote, swap) in a span of its own.

    The span is a child of the current one (the consumed event's, or the HTTP request's), so
    the step shows up in the trace of what caused it.
    """
    tracer = trace.get_tracer("driftloop")

    def wrap(step: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(step)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with tracer.start_as_current_span(span_name):
                return await step(*args, **kwargs)

        return run

    return wrap


def batch_links(sources: Iterable[SourceRecord]) -> list[Link]:
    """One link per distinct producer span of ``sources``, in the order first seen: a batch
    published together shares one span, so a consumed batch links to a few."""
    seen: dict[bytes, Link | None] = {}
    for source in sources:
        for name, value in source.headers:
            if name == "traceparent" and value not in seen:
                seen[value] = _link(value)
    return [link for link in seen.values() if link is not None]


def _link(value: bytes) -> Link | None:
    parts = value.split(b"-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3], 16)
    except ValueError:
        return None
    if not trace_id or not span_id:
        return None
    context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))
    return Link(context)


@contextmanager
def consume_span(
    tracer: Tracer,
    topic: str,
    group_id: str | None,
    sources: Sequence[SourceRecord],
    *,
    parent: Context | None = None,
) -> Iterator[Span]:
    """The process span of consumed records, current while they are handled, so that what they
    publish is its child. A batch, as OpenTelemetry's messaging conventions have it: a trace of
    its own, linked to the producer span of each record (up to ``MAX_LINKS`` distinct ones).
    With ``parent`` (one control event handled in its producer's trace): a child of that."""
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.batch.message_count": len(sources),
    }
    if group_id is not None:
        attributes["messaging.consumer.group.name"] = group_id
    links = batch_links(sources)[:MAX_LINKS] if parent is None else None
    with tracer.start_as_current_span(
        f"{topic} process",
        context=Context() if parent is None else parent,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes=attributes,
    ) as span:
        yield span


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """The fields of a span an operator follows a trace with, as plain JSON values."""
    context = span.get_span_context()
    return {
        "name": span.name,
        "service": span.resource.attributes.get(SERVICE_NAME),
        "trace_id": format_trace_id(context.trace_id) if context else None,
        "span_id": format_span_id(context.span_id) if context else None,
        "parent_span_id": format_span_id(span.parent.span_id) if span.parent else None,
        "kind": span.kind.name,
        "start_time_ns": span.start_time,
        "end_time_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [
            {
                "trace_id": format_trace_id(link.context.trace_id),
                "span_id": format_span_id(link.context.span_id),
            }
            for link in span.links
        ],
        "events": [
            {
                "name": event.name,
                "time_ns": event.timestamp,
                "attributes": dict(event.attributes or {}),
            }
            for event in span.events
        ],
    }


def _plain(value: object) -> object:
    # Span attributes may hold bytes (message keys) and tuples; JSON gets text and lists.
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to a span file")


def setup_telemetry(service_name: str, settings: RuntimeSettings) -> TracerProvider:
    """Install a tracer provider for ``service_name`` and return it (shut it down on exit).

    With ``DRIFTLOOP_OTLP_ENDPOINT`` set, spans go to that OTLP/HTTP collector; otherwise they
    are appended to ``DRIFTLOOP_TRACES_FILE``. ``DRIFTLOOP_TRACE_SAMPLE_RATIO`` of new traces
    are recorded; a trace started upstream keeps its parent's decision.
    """
    sampler = ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}), sampler=sampler
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    return provider


def _exporter(settings: RuntimeSettings) -> SpanExporter:
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.otlp_endpoint.rstrip("/") + "/v1/traces")
    return JsonLinesSpanExporter(settings.traces_file)
