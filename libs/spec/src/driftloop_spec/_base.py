"""The base every spec model builds on, its scalar types, and how validators report problems.

Spec models are immutable and closed: an unknown key is an error (with a suggestion when it looks
like a typo), and scalars are strict, so a quoted ``"10"`` is never read as the number ``10``
and YAML's ``yes`` is never read as a string. Validators report a problem with ``spec_problem``,
which names the exact key it is about, so the loader can point at the line of that key.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Annotated, Any, Final

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ModelWrapValidatorHandler,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from driftloop_contracts.types import MAX_TEXT

__all__ = [
    "NO_VALUE",
    "SPEC_PROBLEM",
    "Flag",
    "Loc",
    "Number",
    "Params",
    "Problem",
    "SpecModel",
    "Text",
    "Word",
    "closest",
    "spec_problem",
    "suggest",
]

SPEC_PROBLEM: Final = "spec_problem"
"""Pydantic error type of the problems spec validators report (their ``ctx`` holds the keys)."""

NO_VALUE: Final = object()
"""Marks a problem that has no offending value to show (e.g. a missing key)."""

Loc = tuple[str | int, ...]
"""A key path inside a spec document, e.g. ``("features", 3, "window")``."""

Problem = tuple[Loc, str, Any]
"""One problem: the key path (relative to the model reporting it), a message and the value."""

Number = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite number; integers are accepted, strings and booleans are not."""

Flag = StrictBool
"""A boolean; YAML ``true``/``false`` (strings such as ``"yes"`` are rejected)."""

Text = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=MAX_TEXT)]
"""Non-empty free text (descriptions)."""

Word = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
"""A lowercase word such as an entity kind (``card``, ``sensor``)."""

Params = Annotated[
    dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")], JsonValue],
    Field(max_length=128),
]
"""Keyword parameters: identifiers mapped to JSON-like values (no objects, no NaN)."""


def spec_problem(problems: Sequence[Problem]) -> PydanticCustomError:
    """Build the error a spec validator raises for one or more problems.

    Pydantic places the error at the model that raised it; each problem's key path continues
    from there, so the loader can name (and find the line of) the exact key.

    Args:
        problems: ``(key path, message, offending value or NO_VALUE)`` triples.

    Returns:
        The error to raise from a validator.
    """
    message = "; ".join(f"{_dotted(loc)}: {text}" if loc else text for loc, text, _ in problems)
    return PydanticCustomError(
        SPEC_PROBLEM, "{message}", {"message": message, "problems": tuple(problems)}
    )


def closest(word: str, choices: Sequence[str]) -> str | None:
    """Return the choice closest to ``word`` if one is close enough to be a typo of it."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, choices: Sequence[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    return _did_you(closest(word, choices))


def _did_you(guess: str | None) -> str:
    return "" if guess is None else f" (did you mean {guess!r}?)"


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


class SpecModel(BaseModel):
    """Base of every spec model: immutable, strict about unknown keys, finite numbers only."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        str_max_length=MAX_TEXT,
        protected_namespaces=(),
    )

    @model_validator(mode="wrap")
    @classmethod
    def _known_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # extra="forbid" would reject unknown keys too, but without a suggestion; checking them
        # here, next to the rest of the mapping, reports a typo together with every other error.
        if not isinstance(data, dict):
            return handler(data)
        unknown = [key for key in data if key not in cls.model_fields]
        if not unknown:
            return handler(data)
        guesses = {key: closest(str(key), list(cls.model_fields)) for key in unknown}
        details = [
            _detail(SPEC_PROBLEM, (key,), data[key], f"unknown key {key!r}{_did_you(guess)}")
            for key, guess in guesses.items()
        ]
        try:
            handler({key: value for key, value in data.items() if key not in guesses})
        except ValidationError as error:
            # A misspelt key also leaves its real key missing; the suggestion already says so.
            hidden = {(guess,) for guess in guesses.values()}
            details += [
                _detail(e["type"], e["loc"], e["input"], e["msg"], e.get("ctx"))
                for e in error.errors()
                if not (e["type"] == "missing" and tuple(e["loc"]) in hidden)
            ]
        raise ValidationError.from_exception_data(cls.__name__, details)


def _detail(
    kind: str, loc: Loc, value: Any, message: str, ctx: dict[str, Any] | None = None
) -> InitErrorDetails:
    if kind == SPEC_PROBLEM and ctx is None:
        ctx = {"problems": ((loc[-1:], message, NO_VALUE),)}
        loc = loc[:-1]
    context = {**(ctx or {}), "message": message}
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{message}", context), loc=loc, input=value
    )
