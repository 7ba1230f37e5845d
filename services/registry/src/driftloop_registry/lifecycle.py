"""Lifecycle events built from the registry's records, so a retry re-publishes the same events."""

from __future__ import annotations

from typing import Any

from driftloop_contracts import (
    MODELS_PROMOTED_TOPIC,
    MODELS_REGISTERED_TOPIC,
    MODELS_RETIRED_TOPIC,
    MODELS_ROLLED_BACK_TOPIC,
    SPECS_TOPIC,
    ModelPromoted,
    ModelRegistered,
    ModelRetired,
    ModelRolledBack,
    SpecApplied,
)
from driftloop_runtime import Outgoing
from driftloop_runtime.mongo import Document

__all__ = ["alias_event", "registered_event", "spec_event"]

PRODUCER = "registry"


def spec_event(record: Document) -> Outgoing:
    """``spec applied`` for a stored spec version."""
    event = SpecApplied(
        event_id=f"spec.applied:{record['name']}:{record['version']}",
        occurred_at=record["applied_at"],
        producer=PRODUCER,
        dataset=record["name"],
        spec_version=record["version"],
        spec=record["document"],
        digest=record["digest"],
    )
    return Outgoing(SPECS_TOPIC, record["name"], event)


def registered_event(version: Document) -> Outgoing:
    """``model registered`` for a stored model version."""
    event = ModelRegistered(
        event_id=f"model.registered:{version['name']}:{version['version']}",
        occurred_at=version["created_at"],
        producer=PRODUCER,
        causation_id=version["training_event_id"],
        **_about(version),
        actor=PRODUCER,
        reason=f"training run {version['run_id']} succeeded",
        evidence=version["metrics"],
        run_id=version["run_id"],
        spec_version=version["spec_version"],
    )
    return Outgoing(MODELS_REGISTERED_TOPIC, version["dataset"], event)


def alias_event(move: Document, version: Document) -> Outgoing:
    """``model promoted``, ``model rolled back`` or ``model retired`` for an alias history
    entry."""
    common: dict[str, Any] = {
        "event_id": move["event_id"],
        "occurred_at": move["at"],
        "producer": PRODUCER,
        "causation_id": move.get("causation_id"),
        **_about(version),
        "actor": move["actor"],
        "reason": move["reason"],
        "evidence": move["evidence"],
        "alias": move["alias"],
    }
    if move["kind"] == "retire":
        retired = ModelRetired(**common)
        return Outgoing(MODELS_RETIRED_TOPIC, version["dataset"], retired)
    if move["kind"] == "rollback":
        event: ModelPromoted | ModelRolledBack = ModelRolledBack(
            **common, previous_version=move["previous_version"]
        )
        return Outgoing(MODELS_ROLLED_BACK_TOPIC, version["dataset"], event)
    event = ModelPromoted(**common, previous_version=move["previous_version"])
    return Outgoing(MODELS_PROMOTED_TOPIC, version["dataset"], event)


def _about(version: Document) -> dict[str, Any]:
    return {
        "dataset": version["dataset"],
        "model_name": version["name"],
        "version": version["version"],
        "artifact_sha256": version["artifact"]["sha256"],
        "artifact_uri": version["artifact"]["uri"],
    }
