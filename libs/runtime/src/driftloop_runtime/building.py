"""Events built without validating again, for hot paths whose values are valid by construction.

A service that derives an event per consumed record from values that already passed a contract
(the input event's, a spec's, a computation that guarantees its range) gains nothing from
validating them again, and ``Contract(...)`` does; pydantic's ``model_construct`` skips the
validation but walks every field in Python looking for aliases and defaults, which costs most
of what it saves. ``construct`` does what ``model_construct`` ends with, from a template of the
contract's fields made once; its tests compare it with ``Contract(...)`` for every contract it
can build, so a pydantic release that changes what an instance holds is caught there.

The values are trusted, the keys are not: an unknown or a missing field raises. A builder owes
values of the fields' types within their constraints, and checks itself what its inputs do not
rule out; its tests hold its output against the contract, and every driftloop consumer
validates what it reads in full (see ``decoding``), so an event built wrong is dead-lettered
there rather than acted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from driftloop_contracts import ContractModel

__all__ = ["construct"]

C = TypeVar("C", bound=ContractModel)

_IMMUTABLE = (type(None), bool, int, float, str, bytes, tuple, frozenset)
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class _Template:
    fields: dict[str, Any]  # every field in declaration order, with its default or None
    required: frozenset[str]


def construct(contract: type[C], /, **values: Any) -> C:
    """Return a ``contract`` instance holding ``values`` as given, without validating them.

    Equal to ``contract(**values)`` for values of the fields' types within their constraints,
    and serialised alike; fields left out take their defaults.

    Args:
        contract: A contract whose fields have plain defaults (no aliases, factories or private
            attributes; checked on its first use).
        values: A value for each field, at least for every field without a default.

    Raises:
        TypeError: If ``values`` names a field ``contract`` does not have or lacks a required
            one, or ``contract`` is not one ``construct`` can build.
    """
    template = _template(contract)
    fields = template.fields.copy()
    fields.update(values)  # known keys keep their declaration order
    if len(fields) != len(template.fields) or not template.required <= values.keys():
        unknown = sorted(values.keys() - template.fields.keys())
        missing = sorted(template.required - values.keys())
        raise TypeError(f"{contract.__name__}: unknown fields {unknown}, missing {missing}")
    event = contract.__new__(contract)
    _set(event, "__dict__", fields)
    _set(event, "__pydantic_fields_set__", set(values))
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


@cache
def _template(contract: type[ContractModel]) -> _Template:
    """The contract's fields and defaults, once the contract is known to be plain enough for
    setting them directly to be what ``model_construct`` does."""
    fields = contract.model_fields
    odd = [
        name
        for name, info in fields.items()
        if info.alias is not None
        or info.validation_alias is not None
        or info.default_factory is not None
        or not (info.is_required() or isinstance(info.default, _IMMUTABLE))
    ]
    special = contract.__private_attributes__ or contract.__pydantic_post_init__
    if odd or special or contract.model_config.get("extra") == "allow":
        raise TypeError(f"construct cannot build {contract.__name__} (fields {odd})")
    required = frozenset(name for name, info in fields.items() if info.is_required())
    defaults = {name: None if name in required else info.default for name, info in fields.items()}
    return _Template(defaults, required)
