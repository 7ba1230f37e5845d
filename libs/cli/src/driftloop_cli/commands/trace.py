"""``driftloop trace``: one event's trace across the services, from the local span files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from driftloop_cli import tracing as tr
from driftloop_cli.commands._common import fail, print_json
from driftloop_cli.render import table

__all__ = ["DEFAULT_TRACES", "render_trace", "trace", "traces_path"]

DEFAULT_TRACES = Path(".driftloop/traces")
"""Where ``driftloop local up`` has its services write their spans."""

_MARKS: dict[tr.Relation, str] = {"root": "", "child": "", "links to": "↪ ", "linked from": "↩ "}


def trace(
    event_id: Annotated[
        str, typer.Argument(help="event_id of any event: data, drift alarm, lifecycle...")
    ],
    traces: Annotated[
        Path | None,
        typer.Option(
            "--traces",
            help="A span file, or a directory of them (default: DRIFTLOOP_TRACES_DIR, then "
            ".driftloop/traces).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tree as JSON.")] = False,
) -> None:
    """The tree of spans of an event's trace across the services, with the traces it links to
    and those that link to it (a drift alarm → the trainer's run → the registry's registration
    and promotion → the scorer's swap): service, span name, start, duration and status.

    Reads the JSON-lines span files the services write on the embedded default.
    """
    path = traces_path(traces)
    try:
        spans, skipped = tr.read_spans(tr.span_files(path))
        found = tr.event_trace(spans, event_id)
    except (tr.SpanFilesMissingError, tr.EventNotTracedError) as error:
        fail(f"driftloop trace: {error}")
    if skipped:
        typer.echo(f"({skipped} lines of {path} were not spans)", err=True)
    if as_json:
        print_json(found.as_json())
    else:
        typer.echo(render_trace(found))


def traces_path(option: Path | None) -> Path:
    """``--traces``, else ``DRIFTLOOP_TRACES_DIR``, else ``.driftloop/traces``."""
    if option is not None:
        return option
    configured = os.environ.get("DRIFTLOOP_TRACES_DIR")
    return Path(configured) if configured else DEFAULT_TRACES


def render_trace(found: tr.EventTrace) -> str:
    """A header naming the services in the order they took part, then one row per span."""
    nodes = found.nodes()
    origin = min(node.span.start_ns for node in nodes)
    traces = {node.span.trace_id for node in nodes}
    header = (
        f"event {found.event_id}: {len(nodes)} spans in {len(traces)} trace(s), "
        f"{' → '.join(found.services())}"
    )
    rows = [
        _row(node, prefix, origin, found.lineage)
        for root in found.roots
        for node, prefix in _lines(root, "", "")
    ]
    headers = ("span", "service", "start", "duration", "status", "event / run")
    return header + "\n\n" + table(headers, rows)


def _lines(node: tr.SpanNode, lead: str, rest: str) -> list[tuple[tr.SpanNode, str]]:
    # ``lead`` prefixes this node's row, ``rest`` the rows of everything below it.
    found = [(node, lead)]
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        branch, below = ("└─ ", "   ") if last else ("├─ ", "│  ")
        found += _lines(child, rest + branch, rest + below)
    return found


def _row(node: tr.SpanNode, prefix: str, origin: int, lineage: frozenset[str]) -> list[str]:
    span = node.span
    name = f"{prefix}{_MARKS[node.relation]}{span.name}"
    if node.orphan:
        name += " (parent not exported)"
    if node.more_links:
        name += f" (+{node.more_links} links not shown)"
    return [
        name,
        span.service,
        f"+{(span.start_ns - origin) / 1e9:.3f} s",
        _duration(span.duration_ms),
        span.status.lower(),
        _about(span, lineage),
    ]


def _about(span: tr.Span, lineage: frozenset[str]) -> str:
    """The event or run a span is about: of a batch's, the event of the path it sent, else how
    many it sent."""
    sent = [event for event, _ in span.published()]
    mine = [event for event in sent if event in lineage]
    if mine:
        return mine[0] if len(sent) == 1 else f"{mine[0]} (+{len(sent) - 1})"
    if sent:
        return sent[0] if len(sent) == 1 else f"{len(sent)} events"
    return str(span.attributes.get("driftloop.run_id") or "-")


def _duration(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"
