"""The monitor's spans: one per batch linked to the records it read, one per drift alarm.

The monitor merges records of many traces into one state, so its spans are not children of a
record's span: they start traces of their own and link to the records' spans (W3C headers).
Headers are parsed here directly, not through the propagator: it runs for every record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanContext, TraceFlags

from driftloop_runtime import SourceRecord

__all__ = ["MAX_LINKS", "batch_span", "drift_span", "record_link"]

MAX_LINKS = 128
"""Links per span: the SDK's default limit drops the rest."""

_tracer = trace.get_tracer("driftloop.monitor")


def record_link(source: SourceRecord) -> Link | None:
    """A link to the span that produced ``source`` (its ``traceparent``); ``None`` without one."""
    for name, value in source.headers:
        if name == "traceparent":
            return _link(value)
    return None


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


def links(sources: Iterable[SourceRecord]) -> list[Link]:
    """The links to the records of ``sources`` that carry a trace context."""
    return [link for source in sources if (link := record_link(source)) is not None]


@contextmanager
def batch_span(records: int, sources: Sequence[SourceRecord]) -> Iterator[Span]:
    """``monitor.observe`` over a batch, a new trace linked to its first ``MAX_LINKS`` records;
    the others' links go to ``monitor.observe.links`` children, ``MAX_LINKS`` each. Links are
    only built when the span is recorded."""
    with _tracer.start_as_current_span(
        "monitor.observe", context=Context(), attributes={"messaging.batch.message_count": records}
    ) as span:
        if span.is_recording():
            found = links(sources)
            for link in found[:MAX_LINKS]:
                span.add_link(link.context)
            for start in range(MAX_LINKS, len(found), MAX_LINKS):
                _tracer.start_span(
                    "monitor.observe.links", links=found[start : start + MAX_LINKS]
                ).end()
        yield span


@contextmanager
def drift_span(
    dataset: str, attributes: Mapping[str, str | int | float], sources: Sequence[SourceRecord]
) -> Iterator[Span]:
    """``monitor.drift_detected``: a new trace, linked to the last ``MAX_LINKS`` records that
    made the alarm fire; the alarm is published inside it, so its headers carry this trace and
    the trainer's run, the registry's promotion and the scorer's swap continue it."""
    found = links(sources[-MAX_LINKS:])
    with _tracer.start_as_current_span(
        "monitor.drift_detected",
        context=Context(),
        links=found,
        attributes={"driftloop.dataset": dataset, **attributes},
    ) as span:
        yield span
