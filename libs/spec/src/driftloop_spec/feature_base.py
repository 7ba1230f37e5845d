"""What every feature has: a unique name, the fields it reads and the columns it writes."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from driftloop_contracts.types import Name
from driftloop_spec._base import NO_VALUE, Number, Problem, SpecModel, Text
from driftloop_spec.fields import FieldSpec

__all__ = ["BaseFeature", "FieldFeature", "NumericFeature"]


class BaseFeature(SpecModel):
    """A feature: one or more model input columns computed from a data event.

    Subclasses set ``transform`` to a literal; the feature service computes them, in spec order,
    into finite floats.
    """

    name: Name = Field(description="Name of the feature, unique in the spec.")
    transform: str = Field(description="The transform; each subclass narrows it to a literal.")
    description: Text | None = Field(default=None, description="What the feature captures.")

    def input_refs(self) -> tuple[tuple[str, str], ...]:
        """Return ``(key, field name)`` for each field the feature reads, e.g. ``("left", "a")``."""
        return ()

    def inputs(self) -> tuple[str, ...]:
        """Return the names of the fields the feature reads, in declaration order."""
        return tuple(name for _, name in self.input_refs())

    def accepts(self) -> frozenset[str]:
        """Return the field types the feature's input fields may have."""
        return frozenset()

    def columns(self) -> tuple[str, ...]:
        """Return the names of the columns the feature writes, in their stable order."""
        return (self.name,)

    def check(self, fields: Mapping[str, FieldSpec]) -> list[Problem]:
        """Return problems with the feature given the declared fields (paths relative to it).

        Called only once every input exists and has an accepted type.

        Args:
            fields: The spec's fields by name.

        Returns:
            Problems as ``(key path, message, value)``; empty when the feature is consistent.
        """
        return []


class FieldFeature(BaseFeature):
    """A feature computed from one field of the data event."""

    field: Name = Field(description="Name of the field the feature reads.")

    def input_refs(self) -> tuple[tuple[str, str], ...]:
        """Return the one field the feature reads."""
        return (("field", self.field),)


class NumericFeature(FieldFeature):
    """A feature computed from one numeric field, with a value to use when it is missing."""

    fill: Number | None = Field(
        default=None,
        description="Value used in place of the field when an event lacks it (absent or null); "
        "required when the field is optional or nullable.",
    )

    def accepts(self) -> frozenset[str]:
        """Return the numeric field types."""
        return frozenset({"float", "int"})

    def check(self, fields: Mapping[str, FieldSpec]) -> list[Problem]:
        """Require ``fill`` when the field may be missing."""
        declared = fields[self.field]
        if declared.optional and self.fill is None:
            return [
                (
                    ("fill",),
                    f"field {self.field!r} may be missing (required: false or nullable: true): "
                    "give fill, the value used when it is",
                    NO_VALUE,
                )
            ]
        return []
