"""Shared helpers of the spec tests: the example specs, and finding lines in them."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftloop_spec import SpecError, SpecIssue, parse_spec

__all__ = ["FRAUD", "SENSORS", "SPECS", "line_of", "only_issue", "replace_once"]

SPECS = Path(__file__).resolve().parents[3] / "specs"
FRAUD = (SPECS / "fraud.yaml").read_text(encoding="utf-8")
SENSORS = (SPECS / "sensors.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, after: str = "") -> int:
    """Return the 1-based number of the first line containing ``needle`` after ``after``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def replace_once(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` (failing the test if it is not exactly one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def only_issue(text: str, source: str = "spec.yaml") -> SpecIssue:
    """Parse ``text``, expect a ``SpecError`` with exactly one issue, and return it."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source=source)
    assert len(caught.value.issues) == 1, str(caught.value)
    return caught.value.issues[0]
