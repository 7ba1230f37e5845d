"""The trace of one event across the services, read from the JSON-lines span files.

Pure: it reads files, builds trees and renders them; ``driftloop trace`` is the command around
it. An event is found by the ids its spans carry (``EVENT_ID_ATTRIBUTES``: the runtime puts
them on every producer span, the scorer on its swaps). Its trace is built from parent/child
relations; links are followed one hop in both directions: the spans it links to (the other
alarms a trainer run served, the records a monitor batch observed) and the spans that link to it
with what they started (the monitor batch that observed a data event, and the alarm it raised).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "EVENT_ID_ATTRIBUTES",
    "LINKS_SHOWN",
    "EventNotTracedError",
    "EventTrace",
    "Span",
    "SpanFilesMissingError",
    "SpanIndex",
    "SpanNode",
    "event_trace",
    "read_spans",
    "span_files",
]

EVENT_ID_ATTRIBUTES = (
    "driftloop.event_id",
    "messaging.message.id",
    "driftloop.causation_id",
    "driftloop.cause_event_id",
)
"""Span attributes that name an event: the one a span published, the one it descends from, or
the lifecycle event that caused a swap. A span matching any of them belongs to the event."""

LINKS_SHOWN = 5
"""Most spans one span's links show; the rest are counted."""

Relation = Literal["root", "child", "links to", "linked from"]


class SpanFilesMissingError(LookupError):
    """No span file where the traces were looked for."""


class EventNotTracedError(LookupError):
    """No span names the event id."""


@dataclass(frozen=True, slots=True)
class Span:
    """One exported span (a line of a span file), with what a trace tree needs.

    Attributes:
        trace_id: 32 hex digits.
        span_id: 16 hex digits.
        parent_span_id: Its parent's span id in the same trace, if any.
        name: The span's name.
        service: The service that exported it.
        start_ns: Start, in nanoseconds since the epoch.
        end_ns: End, in nanoseconds since the epoch.
        status: ``OK``, ``ERROR`` or ``UNSET``.
        attributes: Its attributes.
        links: The (trace id, span id) of each span it links to.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    service: str
    start_ns: int
    end_ns: int
    status: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Span:
        """A span from its JSON record (``driftloop_runtime.telemetry.span_record``).

        Raises:
            KeyError: A field a span cannot do without is missing.
        """
        start = int(record["start_time_ns"])
        return cls(
            trace_id=record["trace_id"],
            span_id=record["span_id"],
            parent_span_id=record.get("parent_span_id"),
            name=record["name"],
            service=record.get("service") or "?",
            start_ns=start,
            end_ns=int(record.get("end_time_ns") or start),
            status=record.get("status") or "UNSET",
            attributes=record.get("attributes") or {},
            links=tuple((link["trace_id"], link["span_id"]) for link in record.get("links", ())),
        )

    @property
    def key(self) -> tuple[str, str]:
        """(trace id, span id): what a parent or a link points at."""
        return self.trace_id, self.span_id

    @property
    def duration_ms(self) -> float:
        """How long it took, in milliseconds."""
        return (self.end_ns - self.start_ns) / 1e6

    def names_event(self, event_id: str) -> bool:
        """Whether one of ``EVENT_ID_ATTRIBUTES`` is ``event_id``."""
        return any(self.attributes.get(name) == event_id for name in EVENT_ID_ATTRIBUTES)


@dataclass(frozen=True, slots=True)
class SpanNode:
    """A span in a tree: how it relates to the node above it, and what hangs below it.

    ``orphan`` marks a span whose parent was not exported (a gap in the trace);
    ``more_links`` counts the linked spans left out (past ``LINKS_SHOWN``).
    """

    span: Span
    relation: Relation
    children: tuple[SpanNode, ...] = ()
    orphan: bool = False
    more_links: int = 0

    def walk(self) -> Iterable[SpanNode]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def as_json(self) -> dict[str, Any]:
        """The node and its subtree as plain JSON values."""
        span = self.span
        return {
            "relation": self.relation,
            "service": span.service,
            "name": span.name,
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": span.parent_span_id,
            "start_time_ns": span.start_ns,
            "duration_ms": round(span.duration_ms, 3),
            "status": span.status,
            "orphan": self.orphan,
            "more_links": self.more_links,
            "attributes": dict(span.attributes),
            "children": [child.as_json() for child in self.children],
        }


@dataclass(frozen=True, slots=True)
class EventTrace:
    """The trees of the traces an event's spans belong to, oldest first."""

    event_id: str
    roots: tuple[SpanNode, ...]

    def nodes(self) -> list[SpanNode]:
        """Every node of every tree, depth first."""
        return [node for root in self.roots for node in root.walk()]

    def services(self) -> list[str]:
        """The services with spans in the event's own traces, in the order they took part."""
        traces = {root.span.trace_id for root in self.roots}
        spans = sorted((n.span for n in self.nodes() if n.span.trace_id in traces), key=_start)
        return list(dict.fromkeys(span.service for span in spans))

    def as_json(self) -> dict[str, Any]:
        """The trees as plain JSON values."""
        return {"event_id": self.event_id, "roots": [root.as_json() for root in self.roots]}


class SpanIndex:
    """Spans by trace, by id, by parent and by what links to them."""

    def __init__(self, spans: Iterable[Span]) -> None:
        """Index ``spans`` (the last of duplicates wins: a span exported twice is one span)."""
        self.by_key: dict[tuple[str, str], Span] = {span.key: span for span in spans}
        self.children: dict[tuple[str, str], list[Span]] = defaultdict(list)
        self.linked_from: dict[tuple[str, str], list[Span]] = defaultdict(list)
        self.by_trace: dict[str, list[Span]] = defaultdict(list)
        for span in sorted(self.by_key.values(), key=lambda s: s.start_ns):
            self.by_trace[span.trace_id].append(span)
            if span.parent_span_id is not None:
                self.children[(span.trace_id, span.parent_span_id)].append(span)
            for link in span.links:
                self.linked_from[link].append(span)

    def roots(self, trace_id: str) -> list[Span]:
        """The spans of a trace whose parent is not in the index, oldest first."""
        return [s for s in self.by_trace.get(trace_id, []) if not self.has_parent(s)]

    def has_parent(self, span: Span) -> bool:
        """Whether ``span``'s parent is in the index."""
        return span.parent_span_id is not None and (span.trace_id, span.parent_span_id) in (
            self.by_key
        )


def _start(span: Span) -> int:
    return span.start_ns


def span_files(path: Path) -> list[Path]:
    """The span files at ``path``: the file itself, or a directory's ``*.jsonl`` files (those of
    its ``traces`` folder when it has none of its own, as in the home of ``driftloop local up``).

    Raises:
        SpanFilesMissingError: There is no span file there.
    """
    if path.is_file():
        return [path]
    found = sorted(path.glob("*.jsonl")) or sorted((path / "traces").glob("*.jsonl"))
    if not found:
        raise SpanFilesMissingError(
            f"no span files at {path} (a .jsonl file, or a directory of them: services write "
            "one each where DRIFTLOOP_TRACES_FILE says, under .driftloop/traces with `driftloop "
            "local up`)"
        )
    return found


def read_spans(files: Sequence[Path]) -> tuple[list[Span], int]:
    """Every span in ``files``, and how many lines were not spans (a line being written while
    a service exports, or another kind of JSON line)."""
    spans: list[Span] = []
    skipped = 0
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    spans.append(Span.from_record(json.loads(line)))
                except (ValueError, KeyError, TypeError, AttributeError):
                    skipped += 1
    return spans, skipped


def event_trace(spans: Iterable[Span], event_id: str) -> EventTrace:
    """The trees of every trace that holds a span naming ``event_id``.

    Raises:
        EventNotTracedError: No span names it.
    """
    index = SpanIndex(spans)
    traces = {s.trace_id for s in index.by_key.values() if s.names_event(event_id)}
    if not traces:
        raise EventNotTracedError(
            f"no span names event {event_id} in {len(index.by_key)} spans: check the id, the "
            "span files (--traces), and DRIFTLOOP_TRACE_SAMPLE_RATIO (unsampled traces are "
            "not exported)"
        )
    roots = sorted(
        (root for trace_id in traces for root in index.roots(trace_id)), key=lambda s: s.start_ns
    )
    return EventTrace(
        event_id, tuple(_node(index, root, "root", traces, follow=True) for root in roots)
    )


def _node(
    index: SpanIndex, span: Span, relation: Relation, home: set[str], *, follow: bool
) -> SpanNode:
    children = [_node(index, c, "child", home, follow=follow) for c in index.children[span.key]]
    more = 0
    if follow:
        linked, more = _linked(index, span, home)
        children = sorted(children + linked, key=lambda n: n.span.start_ns)
    orphan = span.parent_span_id is not None and not index.has_parent(span)
    return SpanNode(span, relation, tuple(children), orphan, more)


def _linked(index: SpanIndex, span: Span, home: set[str]) -> tuple[list[SpanNode], int]:
    """One hop, to spans outside the event's own traces (inside them the tree shows them
    already), and how many linked spans were left out.

    A span this one links to is shown alone, at most ``LINKS_SHOWN`` of them (a monitor batch
    links every record it observed); a span that links to this one is shown with what it
    started (the monitor's alarm below its batch), without following its own links.
    """
    targets = [
        index.by_key[link] for link in span.links if link in index.by_key and link[0] not in home
    ]
    out = [SpanNode(t, "links to") for t in targets[:LINKS_SHOWN]]
    into = [
        _node(index, s, "linked from", home, follow=False)
        for s in index.linked_from[span.key]
        if s.trace_id not in home
    ]
    return out + into, max(0, len(targets) - LINKS_SHOWN)
