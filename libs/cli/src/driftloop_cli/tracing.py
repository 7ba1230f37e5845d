"""The trace of one event across the services, read from the JSON-lines span files.

Pure: it reads files, builds trees and renders them; ``driftloop trace`` is the command around
it. Services trace per batch: a consumed batch is a ``TOPIC process`` span starting a trace of
its own, linked to its records' producer spans, and what it publishes is one ``TOPIC publish``
span per topic listing the ids of the events sent (``driftloop.event_ids``) and of the events
they descend from (``driftloop.causation_ids``). An event's path is therefore found by its
lineage: the event, the events caused by it, and theirs, in turn. The traces holding a span that
names one of them are the event's own; a root of one that links to a span of another hangs
below that span ("linked from"), so the path reads as one tree. Other links are followed one
hop in both directions: the spans it links to (the other alarms a trainer run served, the
records a monitor batch observed) and the spans that link to it with what they started (the
monitor batch that observed a prediction, and the alarm it raised).
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
"""Span attributes that name one event: the one a span published, the one it descends from, or
the lifecycle event that caused a swap. A span matching any of them belongs to the event."""

EVENT_IDS_ATTRIBUTES = ("driftloop.event_ids", "driftloop.causation_ids")
"""Span attributes that list events: those a publish span sent, and those they descend from
(position by position)."""

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

    def names_any(self, event_ids: set[str]) -> bool:
        """Whether one of ``EVENT_ID_ATTRIBUTES`` is, or one of ``EVENT_IDS_ATTRIBUTES`` holds,
        one of ``event_ids``."""
        attributes = self.attributes
        if any(attributes.get(name) in event_ids for name in EVENT_ID_ATTRIBUTES):
            return True
        return any(
            not event_ids.isdisjoint(_listed(attributes, name)) for name in EVENT_IDS_ATTRIBUTES
        )

    def published(self) -> list[tuple[str, str | None]]:
        """The events the span published, each with the event it descends from."""
        attributes = self.attributes
        sent = _listed(attributes, "driftloop.event_ids")
        causes = _listed(attributes, "driftloop.causation_ids") or [""] * len(sent)
        pairs = [(event, cause or None) for event, cause in zip(sent, causes, strict=False)]
        single = attributes.get("driftloop.event_id")
        if isinstance(single, str):
            cause = attributes.get("driftloop.causation_id")
            pairs.append((single, cause if isinstance(cause, str) else None))
        return pairs


def _listed(attributes: Mapping[str, Any], name: str) -> list[str]:
    value = attributes.get(name)
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


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
    """The trees of the traces an event's path runs through, oldest first.

    ``lineage`` is the event and every event descending from it; ``traces`` the ids of the
    traces holding a span that names one of them.
    """

    event_id: str
    roots: tuple[SpanNode, ...]
    lineage: frozenset[str] = frozenset()
    traces: frozenset[str] = frozenset()

    def nodes(self) -> list[SpanNode]:
        """Every node of every tree, depth first."""
        return [node for root in self.roots for node in root.walk()]

    def services(self) -> list[str]:
        """The services with spans in the event's own traces, in the order they took part."""
        spans = sorted((n.span for n in self.nodes() if n.span.trace_id in self.traces), key=_start)
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
        self.caused: dict[str, set[str]] = defaultdict(set)
        for span in sorted(self.by_key.values(), key=lambda s: s.start_ns):
            self.by_trace[span.trace_id].append(span)
            if span.parent_span_id is not None:
                self.children[(span.trace_id, span.parent_span_id)].append(span)
            for link in span.links:
                self.linked_from[link].append(span)
            for event, cause in span.published():
                if cause is not None:
                    self.caused[cause].add(event)

    def lineage(self, event_id: str) -> set[str]:
        """``event_id`` and every event descending from it, by causation ids."""
        found, frontier = {event_id}, [event_id]
        while frontier:
            caused = self.caused.get(frontier.pop(), set()) - found
            found |= caused
            frontier += caused
        return found

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
    """The trees of every trace on ``event_id``'s path (see the module's description).

    Raises:
        EventNotTracedError: No span names it.
    """
    index = SpanIndex(spans)
    lineage = index.lineage(event_id)
    home = {s.trace_id for s in index.by_key.values() if s.names_any(lineage)}
    if not home:
        raise EventNotTracedError(
            f"no span names event {event_id} in {len(index.by_key)} spans: check the id, the "
            "span files (--traces), and DRIFTLOOP_TRACE_SAMPLE_RATIO (unsampled traces are "
            "not exported)"
        )
    tree = _Tree(index, home)
    roots = sorted((r for t in home for r in index.roots(t)), key=_start)
    for root in roots:
        tree.hang(root)
    top = [root for root in roots if root.key not in tree.hung]
    nodes = [tree.node(root, "root", follow=True) for root in top]
    # a root hung below a span the trees never reach (links in a circle) is a root after all
    reached = {n.span.key for node in nodes for n in node.walk()}
    nodes += [tree.node(r, "root", follow=True) for r in roots if r.key not in reached]
    return EventTrace(event_id, tuple(nodes), frozenset(lineage), frozenset(home))


class _Tree:
    """Builds the nodes of an event's trees: children by parent, the roots of the event's other
    traces below the span they link to, and one hop of other links."""

    def __init__(self, index: SpanIndex, home: set[str]) -> None:
        self.index, self.home = index, home
        self.below: dict[tuple[str, str], list[Span]] = defaultdict(list)
        self.hung: set[tuple[str, str]] = set()

    def hang(self, root: Span) -> None:
        """Put ``root`` below the first span of another of the event's traces it links to."""
        for link in root.links:
            if link[0] in self.home and link[0] != root.trace_id and link in self.index.by_key:
                self.below[link].append(root)
                self.hung.add(root.key)
                return

    def node(self, span: Span, relation: Relation, *, follow: bool) -> SpanNode:
        index = self.index
        children = [self.node(c, "child", follow=follow) for c in index.children[span.key]]
        more = 0
        if follow:
            children += [self.node(r, "linked from", follow=True) for r in self.below[span.key]]
            linked, more = self._linked(span)
            children += linked
        children.sort(key=lambda n: n.span.start_ns)
        orphan = span.parent_span_id is not None and not index.has_parent(span)
        return SpanNode(span, relation, tuple(children), orphan, more)

    def _linked(self, span: Span) -> tuple[list[SpanNode], int]:
        """One hop, to spans outside the event's own traces (inside them the tree shows them
        already), and how many linked spans were left out.

        A span this one links to is shown alone, at most ``LINKS_SHOWN`` of them (a monitor
        batch links every producer span it observed); a span that links to this one is shown
        with what it started (the monitor's alarm below its batch), without following its own
        links.
        """
        index, home = self.index, self.home
        targets = [
            index.by_key[link]
            for link in span.links
            if link in index.by_key and link[0] not in home
        ]
        out = [SpanNode(t, "links to") for t in targets[:LINKS_SHOWN]]
        into = [
            self.node(s, "linked from", follow=False)
            for s in index.linked_from[span.key]
            if s.trace_id not in home
        ]
        return out + into, max(0, len(targets) - LINKS_SHOWN)
