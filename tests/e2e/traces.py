"""Reading the services' exported spans in the e2e tests (through ``driftloop trace``'s code)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from driftloop_cli import tracing as tr
from tests.integration.conftest import RunningService

__all__ = ["assert_consistent", "exported", "in_subtree", "is_swap_to", "one", "traces_dir"]


def traces_dir(folder: Path, services: Mapping[str, RunningService]) -> Path:
    """``folder`` with every service's span file in it, as ``driftloop local up`` has them."""
    folder.mkdir(exist_ok=True)
    for name, service in services.items():
        (folder / f"{name}.jsonl").symlink_to(service.env["DRIFTLOOP_TRACES_FILE"])
    return folder


async def exported(
    folder: Path, event_id: str, last: Callable[[tr.SpanNode], bool]
) -> tr.EventTrace | None:
    """The trace of ``event_id`` once a span ``last`` picks is exported, and every span of its
    tree with it (the services export in batches, each on its own schedule)."""
    spans, _ = tr.read_spans(tr.span_files(folder))
    try:
        found = tr.event_trace(spans, event_id)
    except tr.EventNotTracedError:
        return None
    nodes = found.nodes()
    if not any(last(n) for n in nodes) or any(n.orphan for n in nodes):
        return None
    return found


def is_swap_to(version: int) -> Callable[[tr.SpanNode], bool]:
    """Picks the scorer's swap to ``version``."""

    def pick(node: tr.SpanNode) -> bool:
        span = node.span
        return span.name == "swap" and span.attributes.get("driftloop.model_version") == version

    return pick


def assert_consistent(nodes: Sequence[tr.SpanNode]) -> None:
    """Every child span's parent is in the same trace and started no later than it."""
    by_id = {n.span.span_id: n.span for n in nodes}
    for node in nodes:
        if node.relation != "child":
            continue
        assert not node.orphan, f"{node.span.name}: its parent was not exported"
        parent = by_id[node.span.parent_span_id or ""]
        assert parent.trace_id == node.span.trace_id
        assert parent.start_ns <= node.span.start_ns, f"{node.span.name} before its parent"


def one(nodes: Sequence[tr.SpanNode], name: str) -> tr.SpanNode:
    """The one span of ``nodes`` named ``name``."""
    (found,) = [n for n in nodes if n.span.name == name and n.relation != "linked from"]
    return found


def in_subtree(top: tr.SpanNode, node: tr.SpanNode) -> bool:
    """Whether ``node`` is ``top`` or below it."""
    return any(n is node for n in top.walk())
