"""Constrained value types shared by every driftloop contract.

Each alias is an ``Annotated`` type: pydantic enforces the constraint at validation time and writes
it into the generated JSON Schema, so a producer in any language can check a message before it
sends it. Numbers are strict (a JSON string ``"1"`` is never read as the number ``1``, a boolean
is never read as a number) and floats must be finite.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BeforeValidator,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

__all__ = [
    "DATASET_PATTERN",
    "ID_PATTERN",
    "MAX_FIELDS",
    "MAX_TEXT",
    "NAME_PATTERN",
    "SHA256_PATTERN",
    "ArtifactUri",
    "Category",
    "Count",
    "DatasetName",
    "FieldMap",
    "FieldValue",
    "FiniteFloat",
    "Identifier",
    "Label",
    "MetricMap",
    "Name",
    "Offset",
    "Partition",
    "Probability",
    "SchemaVersion",
    "Sha256Hex",
    "ShortText",
    "Text",
    "TopicName",
    "TraceId",
    "Version",
]

ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
"""Ids (event, entity, run): 1 to 128 characters of letters, digits, ``.``, ``_``, ``:``, ``-``."""

DATASET_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
"""Dataset names: a lowercase letter, then up to 62 lowercase letters, digits, ``_`` or ``-``."""

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$"
"""Names of fields, features, metrics and detectors: an identifier of at most 128 characters."""

SHA256_PATTERN = r"^[0-9a-f]{64}$"
"""A SHA-256 digest as 64 lowercase hexadecimal characters."""

MAX_FIELDS = 256
"""Most entries a data event's ``fields`` map may hold."""

MAX_TEXT = 4096
"""Longest string any contract accepts (a model-wide cap; most fields are tighter)."""


def _check_dataset_name(value: str) -> str:
    if re.fullmatch(DATASET_PATTERN, value) is None:
        raise ValueError(
            f"invalid dataset name {value!r}: use 1 to 63 characters, starting with a lowercase "
            "letter, followed by lowercase letters, digits, '_' or '-'"
        )
    return value


def _require_int(value: Any) -> Any:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    return value


Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""An id: 1 to 128 characters of ``[A-Za-z0-9._:-]``."""

DatasetName = Annotated[
    str,
    AfterValidator(_check_dataset_name),
    WithJsonSchema({"type": "string", "pattern": DATASET_PATTERN, "minLength": 1, "maxLength": 63}),
]
"""A dataset name matching ``DATASET_PATTERN``, rejected with a message that says the rule."""

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""The name of a field, feature, metric, signal or detector."""

Sha256Hex = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]

ArtifactUri = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9+.-]*://\S{1,2000}$")]
"""Where an artifact is stored: a URI with a scheme, e.g. ``gridfs://artifacts/<id>``."""
"""A SHA-256 digest, lowercase hex."""

TopicName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
"""A Kafka topic name (Kafka's own character set and length limit)."""

TraceId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
"""A W3C trace id: 32 lowercase hex characters."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256)]
"""A short non-empty human-readable string, such as an actor or a class label."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
"""A non-empty human-readable string of at most ``MAX_TEXT`` characters, such as a reason."""

Category = Annotated[str, StringConstraints(max_length=256)]
"""A categorical value (may be empty)."""

FiniteFloat = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite number; integers are accepted, strings, booleans, NaN and infinities are not."""

Probability = Annotated[float, Strict(), AllowInfNan(False), Field(ge=0.0, le=1.0)]
"""A finite number between 0 and 1 inclusive."""

Count = Annotated[int, Strict(), Field(ge=0)]
"""A non-negative integer count."""

Version = Annotated[int, Strict(), Field(ge=1)]
"""A version number: an integer from 1."""

Partition = Annotated[int, Strict(), Field(ge=0, le=2**31 - 1)]
"""A Kafka partition number."""

Offset = Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)]
"""A Kafka offset."""

SchemaVersion = Annotated[Literal[1], BeforeValidator(_require_int)]
"""Major version 1 of a contract; only the integer ``1`` is accepted (not ``"1"``, ``1.0``)."""

FieldValue = (
    StrictBool | StrictInt | FiniteFloat | Annotated[str, Strict(), Field(max_length=1024)] | None
)
"""A raw field value: boolean, integer, finite float, string (at most 1024 characters) or null."""

Label = StrictBool | StrictInt | FiniteFloat | Annotated[str, Strict(), Field(max_length=256)]
"""A label or prediction: boolean, integer, finite float or string (at most 256 characters)."""

FieldMap = Annotated[dict[Name, FieldValue], Field(max_length=MAX_FIELDS)]
"""A data event's fields: at most ``MAX_FIELDS`` names mapped to raw values."""

MetricMap = Annotated[dict[Name, FiniteFloat], Field(max_length=64)]
"""At most 64 metric names mapped to finite values."""
