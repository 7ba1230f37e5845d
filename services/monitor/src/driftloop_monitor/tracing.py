"""The monitor's spans: one per batch linked to the records it read, one per drift alarm.

The monitor merges records of many traces into one state, so its spans are not children of a
record's span: they start traces of their own and link to the records' spans (W3C headers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from driftloop_runtime import SourceRecord
from driftloop_runtime.telemetry import MAX_LINKS, batch_links

__all__ = ["batch_span", "drift_span"]

_tracer = trace.get_tracer("driftloop.monitor")


@contextmanager
def batch_span(records: int, sources: Sequence[SourceRecord]) -> Iterator[Span]:
    """``monitor.observe`` over a batch, a new trace linked to the producer spans of its
    records (the first ``MAX_LINKS``; the others' go to ``monitor.observe.links`` children,
    ``MAX_LINKS`` each). Links are only built when the span is recorded."""
    with _tracer.start_as_current_span(
        "monitor.observe", context=Context(), attributes={"messaging.batch.message_count": records}
    ) as span:
        if span.is_recording():
            found = batch_links(sources)
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
    """``monitor.drift_detected``: a new trace, linked to the producer spans of the last
    ``MAX_LINKS`` records that made the alarm fire; the alarm is published inside it, so its
    headers carry this trace and the trainer's run, the registry's promotion and the scorer's
    swap continue it."""
    found = batch_links(sources[-MAX_LINKS:])
    with _tracer.start_as_current_span(
        "monitor.drift_detected",
        context=Context(),
        links=found,
        attributes={"driftloop.dataset": dataset, **attributes},
    ) as span:
        yield span
