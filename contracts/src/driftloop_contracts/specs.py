"""Dataset specs: the registry broadcasts every spec version it applies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import Field, JsonValue

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import Event, event_type_field
from driftloop_contracts.types import DatasetName, Name, Sha256Hex, Version

__all__ = ["SpecApplied", "spec_digest"]

_SPEC: dict[str, JsonValue] = {
    # A small but complete spec document, in the canonical form the registry stores and sends
    # (driftloop_spec.DatasetSpec.to_document(); a test checks that it still validates).
    "name": ex.DATASET,
    "entity": "card",
    "fields": {
        "amount": {"type": "float", "required": True, "nullable": False, "min": 0.0},
        "country": {"type": "category", "required": True, "nullable": False},
    },
    "label": {
        "name": "is_fraud",
        "task": "binary",
        "type": "bool",
        "classes": [False, True],
        "positive": True,
    },
    "features": [
        {"name": "amount_log", "transform": "log1p", "field": "amount"},
        {"name": "hour", "transform": "hour_of_day", "timezone": "UTC"},
        {"name": "card_count_1h", "transform": "aggregate", "fn": "count", "window": "1h"},
    ],
    "model": {
        "kind": "sklearn",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"C": 0.5},
    },
    "training": {"window": "7d", "holdout": 0.2, "min_labelled_rows": 500},
    "drift": {
        "detectors": [
            {"signal": "data", "method": "psi", "features": "all", "threshold": 0.2},
            {"signal": "performance", "method": "adwin", "params": {}},
        ],
        "min_samples": 500,
        "cooldown": "10m",
        "min_post_change_labels": 200,
    },
    "promotion": {"metric": "roc_auc", "min_improvement": 0.005, "mode": "automatic"},
    "lateness": {"events": "5m", "labels": "7d"},
}


def spec_digest(spec: Mapping[str, JsonValue]) -> str:
    """Return the SHA-256 (lowercase hex) of a spec document's canonical JSON form.

    The canonical form is UTF-8 JSON with sorted keys and no insignificant whitespace.

    Args:
        spec: The spec document as a JSON object.

    Returns:
        The digest, 64 lowercase hex characters.
    """
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class SpecApplied(Event):
    """A dataset spec version the registry applied, broadcast to every service.

    Topic ``driftloop.specs.v1``, Kafka key = ``dataset``. ``spec`` is the whole spec document as
    a JSON object; its own model is defined separately and validated by the registry before it
    applies a spec. Services verify ``digest`` before they switch to a new version.
    """

    event_type: Literal["spec.applied"] = event_type_field("spec.applied")
    dataset: DatasetName = Field(description="Dataset the spec describes; also the Kafka key.")
    spec_version: Version = Field(description="Version of the spec, increasing per dataset.")
    spec: Annotated[dict[Name, JsonValue], Field(max_length=64)] = Field(
        description="The full spec document (fields, features, label, model, drift and promotion "
        "policy) as a JSON object."
    )
    digest: Sha256Hex = Field(
        description="SHA-256 (lowercase hex) of the spec's canonical JSON form: UTF-8, sorted "
        "keys, separators ',' and ':' (see spec_digest)."
    )

    def digest_matches(self) -> bool:
        """Return whether ``digest`` is the digest of ``spec`` (check before applying it)."""
        return spec_digest(self.spec) == self.digest

    @classmethod
    def example(cls) -> Self:
        """Return version 3 of the ``payments`` spec being applied."""
        return cls(
            event_id="spec.applied:payments:3",
            occurred_at=ex.later(days=-2),
            producer="registry",
            dataset=ex.DATASET,
            spec_version=3,
            spec=_SPEC,
            digest=spec_digest(_SPEC),
        )
