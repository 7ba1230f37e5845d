"""Reading YAML for specs: one document, no duplicate keys, and the line of every key.

PyYAML keeps the last of two equal keys without a word; a spec rejects them instead. Parsing
goes through the node tree (``compose``) so every key and list item keeps its start mark, and
problems found later can be placed on a line.
"""

from __future__ import annotations

from typing import Any

import yaml

from driftloop_spec._base import Loc
from driftloop_spec.errors import SpecError, SpecIssue

__all__ = ["Marks", "read_yaml"]

Marks = dict[Loc, tuple[int, int]]
"""1-based ``(line, column)`` of every key and list item, by key path."""

_MAX_NODES = 100_000
"""Most nodes a document may expand to (aliases count each time they are used)."""


def read_yaml(text: str, source: str) -> tuple[Any, Marks]:
    """Parse one YAML document into plain data and the position of every key.

    Args:
        text: The YAML text.
        source: The file name, for error messages.

    Returns:
        The data and its marks.

    Raises:
        SpecError: On a syntax error, an empty document, more than one document or a
            duplicate key.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError(source, [SpecIssue((), "the file is empty: a spec is a YAML mapping")])
        _check_size(node, source)
        duplicates = _duplicates(node, ())
        if duplicates:
            raise SpecError(source, duplicates)
        return loader.construct_document(node), _marks(node)
    except yaml.MarkedYAMLError as error:
        raise SpecError(source, [_syntax_issue(error)]) from None
    except yaml.YAMLError as error:
        raise SpecError(source, [SpecIssue((), f"invalid YAML: {error}")]) from None
    except RecursionError:
        raise SpecError(source, [SpecIssue((), "the YAML is nested too deeply")]) from None
    finally:
        loader.dispose()


def _syntax_issue(error: yaml.MarkedYAMLError) -> SpecIssue:
    words = [part for part in (error.context, error.problem) if part]
    message = "invalid YAML: " + ", ".join(words or [str(error)])
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return SpecIssue((), message)
    return SpecIssue((), message, line=mark.line + 1, column=mark.column + 1)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _check_size(root: yaml.Node, source: str) -> None:
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, active: frozenset[int]) -> int:
        if id(node) in active:
            raise SpecError(
                source, [SpecIssue((), "a YAML alias refers to itself", None, *_position(node))]
            )
        if id(node) not in sizes:
            inner = active | {id(node)}
            sizes[id(node)] = 1 + sum(size(child, inner) for _, child, _ in _children(node, ()))
        return sizes[id(node)]

    total = size(root, frozenset())
    if total > _MAX_NODES:
        message = f"the document expands to {total} nodes (aliases included); at most {_MAX_NODES}"
        raise SpecError(source, [SpecIssue((), message)])


def _duplicates(node: yaml.Node, loc: Loc) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for key, child, _ in _children(node, loc):
        issues += _duplicates(child, key)
    if isinstance(node, yaml.MappingNode):
        first: dict[str, tuple[int, int]] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            if key_node.value in first:
                line, column = _position(key_node)
                message = (
                    f"duplicate key {key_node.value!r} (first at line {first[key_node.value][0]})"
                )
                issues.append(SpecIssue((*loc, key_node.value), message, None, line, column))
            first.setdefault(key_node.value, _position(key_node))
    return sorted(issues, key=lambda issue: (issue.line or 0, issue.column or 0))


def _children(node: yaml.Node, loc: Loc) -> list[tuple[Loc, yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        return [
            ((*loc, key.value), value, key)
            for key, value in node.value
            if isinstance(key, yaml.ScalarNode)
        ]
    if isinstance(node, yaml.SequenceNode):
        return [((*loc, index), item, item) for index, item in enumerate(node.value)]
    return []


def _marks(root: yaml.Node) -> Marks:
    marks: Marks = {(): _position(root)}
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        for key, child, anchor in _children(node, loc):
            if key not in marks:
                marks[key] = _position(anchor)
                stack.append((child, key))
    return marks
