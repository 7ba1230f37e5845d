"""Fields: the raw values a data event carries, their types and bounds.

Ingestion checks every data event's ``fields`` against these declarations. The entity id and the
event time are not fields: they come from the data event's envelope (``entity_id`` and
``occurred_at``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, Strict, StrictInt, StringConstraints, model_validator

from driftloop_spec._base import Flag, Number, SpecModel, Text, spec_problem

__all__ = [
    "FIELD_TYPES",
    "NUMERIC_TYPES",
    "TEXT_TYPES",
    "BoolField",
    "CategoryField",
    "CategoryValue",
    "FieldSpec",
    "FieldType",
    "FloatField",
    "IntField",
    "StringField",
]

FieldType = Literal["float", "int", "bool", "string", "category"]
"""The type of a field's values."""

FIELD_TYPES: tuple[FieldType, ...] = ("float", "int", "bool", "string", "category")
"""Every field type."""

NUMERIC_TYPES: frozenset[str] = frozenset({"float", "int"})
"""Field types whose values are numbers."""

TEXT_TYPES: frozenset[str] = frozenset({"string", "category"})
"""Field types whose values are strings."""

MAX_STRING = 1024
"""Longest string a data event may carry (the contracts' cap on a field value)."""

CategoryValue = Annotated[str, Strict(), StringConstraints(max_length=256)]
"""One value of a category (YAML ``no`` or ``1`` must be quoted to be read as a string)."""


class _Field(SpecModel):
    """What every field declares, whatever its type."""

    type: str = Field(description="The field type; each subclass narrows it to a literal.")
    required: Flag = Field(
        default=True, description="Whether every data event must carry the field."
    )
    nullable: Flag = Field(default=False, description="Whether the field's value may be null.")
    description: Text | None = Field(default=None, description="What the field means.")

    @property
    def optional(self) -> bool:
        """Whether a data event may lack a value for the field (absent or null)."""
        return not self.required or self.nullable


class FloatField(_Field):
    """A real number (integers are accepted), optionally bounded."""

    type: Literal["float"] = Field(description="Always 'float'.")
    min: Number | None = Field(default=None, description="Smallest value allowed (inclusive).")
    max: Number | None = Field(default=None, description="Largest value allowed (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise spec_problem([(("max",), f"max is below min {self.min}", self.max)])
        return self


class IntField(_Field):
    """A whole number, optionally bounded."""

    type: Literal["int"] = Field(description="Always 'int'.")
    min: StrictInt | None = Field(default=None, description="Smallest value allowed (inclusive).")
    max: StrictInt | None = Field(default=None, description="Largest value allowed (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise spec_problem([(("max",), f"max is below min {self.min}", self.max)])
        return self


class BoolField(_Field):
    """A boolean (``true`` or ``false``)."""

    type: Literal["bool"] = Field(description="Always 'bool'.")


class StringField(_Field):
    """Free text: any string, optionally capped in length."""

    type: Literal["string"] = Field(description="Always 'string'.")
    max_length: Annotated[StrictInt, Field(ge=1, le=MAX_STRING)] | None = Field(
        default=None, description="Longest string allowed, in characters."
    )


class CategoryField(_Field):
    """One of a set of labels, either a closed list (``values``) or open (any string)."""

    type: Literal["category"] = Field(description="Always 'category'.")
    values: Annotated[tuple[CategoryValue, ...], Field(min_length=1, max_length=4096)] | None = (
        Field(
            default=None,
            description="The allowed values; a value outside the list is invalid. Omit for an "
            "open set (new values are accepted; encoders put them in their unknown bucket).",
        )
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if self.values is not None:
            seen: set[str] = set()
            for index, value in enumerate(self.values):
                if value in seen:
                    raise spec_problem([(("values", index), "duplicate value", value)])
                seen.add(value)
        return self


FieldSpec = Annotated[
    FloatField | IntField | BoolField | StringField | CategoryField, Field(discriminator="type")
]
"""A field declaration, chosen by its ``type``."""
