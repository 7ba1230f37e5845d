"""``SpecError``: every problem of an invalid spec, each with its key path, value and line.

Pydantic reports where it failed as a ``loc`` that includes the names of union branches
(``('features', 3, 'aggregate', 'window')``); the problems here carry the key path a user
wrote instead (``features[3].window``), found by walking the document itself.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from driftloop_contracts.types import NAME_PATTERN
from driftloop_spec._base import NO_VALUE, SPEC_PROBLEM, Loc, suggest

__all__ = ["SpecError", "SpecIssue", "format_path", "problems_from"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_path(loc: Loc) -> str:
    """Return a key path as written in docs: ``features[3].window``, ``fields["a.b"].min``.

    Args:
        loc: Keys and list indices from the document's root.

    Returns:
        The path, or ``"(top level)"`` for the root.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(top level)"


def _render(value: Any) -> str:
    # JSON reads like the YAML the user wrote: false, "10 parsecs", [1, 2].
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 80 else f"{text[:77]}..."


@dataclasses.dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec.

    Attributes:
        loc: Key path from the document's root, e.g. ``("features", 3, "window")``.
        message: What is wrong and, where it helps, how to fix it.
        value: The offending value, rendered as JSON (``"10 parsecs"``, ``[1, 2]``), or None
            when there is none (a missing key).
        line: 1-based line of the key in the YAML file, when known.
        column: 1-based column of the key in the YAML file, when known.
    """

    loc: Loc
    message: str
    value: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def path(self) -> str:
        """The key path as text, e.g. ``features[3].window``."""
        return format_path(self.loc)

    def describe(self, source: str) -> str:
        """Return the issue as one line: ``source:line:column: path: message (got value)``.

        The position is left out when unknown, the path when the issue is about the whole
        document.
        """
        where = source if self.line is None else f"{source}:{self.line}:{self.column}"
        path = f"{self.path}: " if self.loc else ""
        got = "" if self.value is None else f" (got {self.value})"
        return f"{where}: {path}{self.message}{got}"


class SpecError(ValueError):
    """A spec that cannot be read or is invalid; ``issues`` lists every problem found.

    Attributes:
        source: The file (or other source) the spec came from.
        issues: The problems, in document order where known.
    """

    def __init__(self, source: str, issues: Sequence[SpecIssue]) -> None:
        """Build the error; its message is one line per issue under a heading.

        Args:
            source: The file (or other source) the spec came from.
            issues: The problems found (at least one).
        """
        self.source = source
        self.issues = tuple(issues)
        count = len(self.issues)
        heading = f"{source}: invalid dataset spec ({count} problem{'s' * (count != 1)})"
        super().__init__("\n".join([heading, *(f"  {i.describe(source)}" for i in self.issues)]))


def problems_from(error: ValidationError, document: Any) -> list[SpecIssue]:
    """Translate a validation error of a spec document into issues with real key paths.

    Args:
        error: What pydantic raised validating ``document``.
        document: The document that was validated.

    Returns:
        One issue per problem, without line numbers, duplicates removed.
    """
    details = [dict(detail) for detail in error.errors()]
    issues: list[SpecIssue] = []
    for detail in details:
        if detail["type"] == "too_short" and _has_inner_error(detail, details):
            continue  # pydantic counts failed items as missing: the inner errors say it all
        for issue in _translate(detail, document):
            if issue not in issues:
                issues.append(issue)
    return issues


def _has_inner_error(outer: dict[str, Any], details: list[dict[str, Any]]) -> bool:
    loc = tuple(outer["loc"])
    return any(len(d["loc"]) > len(loc) and tuple(d["loc"][: len(loc)]) == loc for d in details)


def _translate(detail: dict[str, Any], document: Any) -> list[SpecIssue]:
    loc: Loc = tuple(detail["loc"])
    kind, ctx = detail["type"], detail.get("ctx") or {}
    if kind == SPEC_PROBLEM:
        return [
            _issue(document, loc + tuple(rel), text, value) for rel, text, value in ctx["problems"]
        ]
    if kind == "union_tag_invalid":
        key, tag = ctx["discriminator"].strip("'"), ctx["tag"]
        expected = [t.strip("'") for t in ctx["expected_tags"].split(", ")]
        text = f"unknown {key} {tag!r}{suggest(tag, expected)}; use one of {', '.join(expected)}"
        return [_issue(document, (*loc, key), text, tag)]
    if kind == "union_tag_not_found":
        key = ctx["discriminator"].strip("'")
        return [_issue(document, (*loc, key), f"missing key {key!r}", NO_VALUE)]
    if kind == "missing":
        return [_issue(document, loc, f"missing key {loc[-1]!r}", NO_VALUE)]
    if kind == "extra_forbidden":
        return [_issue(document, loc, f"unknown key {loc[-1]!r}", NO_VALUE)]
    return [_issue(document, loc, _message(detail), detail.get("input", NO_VALUE))]


_PLAIN = {
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
}


def _message(detail: dict[str, Any]) -> str:
    if detail["type"] in _PLAIN:
        return _PLAIN[detail["type"]]
    ctx = detail.get("ctx") or {}
    if detail["type"] == "too_short":
        least = ctx.get("min_length")
        return f"expected at least {least} item{'s' * (least != 1)}"
    pattern = ctx.get("pattern")
    if detail["type"] == "string_pattern_mismatch" and pattern == NAME_PATTERN:
        return (
            "not a valid name: a letter or '_', then letters, digits, '_', '.', ':' or '-' "
            "(at most 128 characters)"
        )
    text = str(detail["msg"]).removeprefix("Value error, ")
    if detail["type"] == "string_type" and isinstance(detail.get("input"), bool | int | float):
        text += " (quote it: YAML reads yes, no, on, off and numbers as non-strings)"
    return text


def _issue(document: Any, loc: Loc, message: str, value: Any) -> SpecIssue:
    missing = value is NO_VALUE
    return SpecIssue(
        loc=resolve_loc(document, loc, missing),
        message=message,
        value=None if missing else _render(value),
    )


def resolve_loc(document: Any, loc: Loc, missing: bool = False) -> Loc:
    """Return the key path a pydantic ``loc`` stands for in ``document``.

    Parts that are not keys of the document (union branch names such as ``'aggregate'``,
    ``'[key]'``) are dropped; mapping keys come out as strings. With ``missing``, a last part
    that is not in the document is kept: it names the missing key.

    Args:
        document: The validated document.
        loc: A pydantic error location, possibly extended with keys.
        missing: Whether the location names a key that is absent.

    Returns:
        The key path.
    """
    path: list[str | int] = []
    node = document
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and _has_key(node, part):
            key = part if part in node else str(part)
            path.append(str(key))
            node = node[key]
        elif last and missing:
            path.append(str(part))
    return tuple(path)


def _has_key(node: dict[Any, Any], part: str | int) -> bool:
    return part in node or str(part) in node
