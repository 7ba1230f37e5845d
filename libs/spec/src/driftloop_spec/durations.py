"""Durations written as a whole number and a unit (``"30s"``, ``"15m"``, ``"1h"``, ``"7d"``).

A duration is held as a whole number of seconds and written back in its canonical form: the
largest unit that divides it exactly (``"90m"`` stays ``"90m"``, ``"60m"`` becomes ``"1h"``), so
two specs that say the same thing have the same document and digest.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = ["UNITS", "Duration", "format_duration", "parse_duration", "within"]

UNITS: dict[str, int] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
"""Seconds per unit, largest first."""

_PATTERN = re.compile(r"([0-9]{1,9})([smhd])")


def parse_duration(text: str) -> int:
    """Return the number of seconds a duration string stands for.

    Args:
        text: A whole number followed by ``s``, ``m``, ``h`` or ``d``, e.g. ``"15m"``.

    Returns:
        The duration in seconds (at least 1).

    Raises:
        ValueError: If ``text`` is not such a string or is zero.
    """
    match = _PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: write a whole number and a unit s, m, h or d, "
            "e.g. '30s', '15m', '1h', '7d'"
        )
    seconds = int(match.group(1)) * UNITS[match.group(2)]
    if seconds == 0:
        raise ValueError(f"invalid duration {text!r}: it must be longer than zero")
    return seconds


def format_duration(seconds: int) -> str:
    """Return the canonical string of a duration: the largest unit that divides it exactly.

    Args:
        seconds: A positive number of seconds.

    Returns:
        E.g. ``"1h"`` for 3600, ``"90m"`` for 5400, ``"45s"`` for 45.
    """
    for unit, size in UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def within(minimum: str, maximum: str) -> AfterValidator:
    """Return a validator that keeps a ``Duration`` between two durations, inclusive.

    Use it as ``Annotated[Duration, within("1m", "90d")]``.

    Args:
        minimum: Shortest duration accepted, e.g. ``"1m"``.
        maximum: Longest duration accepted, e.g. ``"90d"``.

    Returns:
        A pydantic ``AfterValidator``.
    """
    low, high = parse_duration(minimum), parse_duration(maximum)

    def check(seconds: int) -> int:
        if not low <= seconds <= high:
            raise _error(
                f"duration {format_duration(seconds)!r} is out of range: use {minimum} to {maximum}"
            )
        return seconds

    return AfterValidator(check)


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("duration", "{message}", {"message": message})


def _read(value: Any) -> int:
    if not isinstance(value, str):
        raise _error(
            f"a duration must be a string such as '15m' or '1h', got {type(value).__name__}"
        )
    try:
        return parse_duration(value)
    except ValueError as error:
        raise _error(str(error)) from None


Duration = Annotated[
    int,
    BeforeValidator(_read),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _PATTERN.pattern}),
]
"""A duration: read from a string such as ``"15m"``, held as seconds, written canonically."""
