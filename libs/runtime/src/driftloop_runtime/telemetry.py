"""OpenTelemetry set-up: OTLP when a collector is configured, a JSON-lines file otherwise."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from driftloop_runtime.settings import RuntimeSettings

__all__ = ["JsonLinesSpanExporter", "setup_telemetry"]


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one JSON object per line, so the embedded default keeps traces."""

    def __init__(self, path: Path) -> None:
        """Export to ``path``, creating its folder if needed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write ``spans`` as compact JSON lines."""
        lines = "".join(json.dumps(json.loads(span.to_json()), separators=(",", ":")) + "\n"
                        for span in spans)
        with self._lock:
            self._file.write(lines)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()


def setup_telemetry(service_name: str, settings: RuntimeSettings) -> TracerProvider:
    """Install a tracer provider for ``service_name`` and return it (shut it down on exit).

    With ``DRIFTLOOP_OTLP_ENDPOINT`` set, spans go to that OTLP/HTTP collector; otherwise they
    are appended to ``DRIFTLOOP_TRACES_FILE``.
    """
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    return provider


def _exporter(settings: RuntimeSettings) -> SpanExporter:
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.otlp_endpoint.rstrip("/") + "/v1/traces")
    return JsonLinesSpanExporter(settings.traces_file)
