"""Output for people (aligned tables, key-value blocks) and for scripts (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from driftloop_spec import METRICS

__all__ = [
    "NONE",
    "fields",
    "metrics",
    "number",
    "short_digest",
    "table",
    "to_json",
    "when",
]

NONE = "-"
"""What an empty cell shows."""


def to_json(data: Any) -> str:
    """``data`` as indented JSON, keys in the API's order."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns left-aligned to their widest cell, two spaces apart, under upper-case headers."""
    lines = [[h.upper() for h in headers], *[list(row) for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def fields(pairs: Sequence[tuple[str, str]], indent: int = 0) -> str:
    """``key  value`` lines with the values aligned."""
    width = max((len(key) for key, _ in pairs), default=0)
    return "\n".join(f"{' ' * indent}{key.ljust(width)}  {value}" for key, value in pairs)


def when(value: Any) -> str:
    """An RFC 3339 time from the API as ``2025-01-02 10:03:04Z`` (UTC); ``-`` if absent."""
    if not isinstance(value, str) or not value:
        return NONE
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:  # the registry stores UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def short_digest(digest: Any, length: int = 12) -> str:
    """The first ``length`` hex digits of a SHA-256, enough to tell versions apart."""
    return str(digest)[:length] if digest else NONE


def number(value: Any) -> str:
    """A metric value with four significant digits."""
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def metrics(values: Mapping[str, Any] | None, limit: int | None = None) -> str:
    """``roc_auc=0.9123 log_loss=0.21``: known metrics first, in their registry order."""
    if not values:
        return NONE
    order = {name: position for position, name in enumerate(METRICS)}
    names = sorted(values, key=lambda name: (order.get(name, len(order)), name))
    shown = [f"{name}={number(values[name])}" for name in names[:limit]]
    more = len(names) - len(shown)
    return " ".join(shown) + (f" (+{more})" if more else "")
