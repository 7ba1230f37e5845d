"""Model lifecycle: the registry's facts about model versions (registered, promoted, rolled back).

The vocabulary follows MLflow's registry: a registered model has integer versions, and aliases
(``champion``, ``shadow``, ``candidate``, ``archived``) point at versions. The scorer serves the
``champion`` and any ``shadow``; it verifies ``artifact_sha256`` before it loads a version.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import Event, event_type_field
from driftloop_contracts.types import (
    ArtifactUri,
    DatasetName,
    Identifier,
    MetricMap,
    Sha256Hex,
    ShortText,
    Text,
    Version,
)

__all__ = ["Alias", "ModelPromoted", "ModelRegistered", "ModelRetired", "ModelRolledBack"]

Alias = Literal["champion", "shadow", "candidate", "archived"]
"""A model version's role: serving (champion), shadow-serving, awaiting a decision, or retired."""


class _ModelVersionEvent(Event):
    """Fields every lifecycle event shares (an abstract base, never published itself)."""

    dataset: DatasetName = Field(description="Dataset the model serves; also the Kafka key.")
    model_name: Identifier = Field(description="Registered model name.")
    version: Version = Field(description="The model version this event is about.")
    artifact_sha256: Sha256Hex = Field(description="SHA-256 of that version's artifact.")
    artifact_uri: ArtifactUri | None = Field(
        default=None,
        description="Where that version's artifact is stored, e.g. 'gridfs://artifacts/<id>', "
        "so a consumer can load it without asking the registry.",
    )
    actor: ShortText = Field(description="Who acted: a user, or 'registry' for the policy.")
    reason: Text = Field(description="Why, in words, for the audit trail.")
    evidence: MetricMap = Field(
        default_factory=dict, description="Metrics the decision was based on, by name."
    )


class ModelRegistered(_ModelVersionEvent):
    """A new model version was registered from a training run.

    Topic ``driftloop.models.registered.v1``, Kafka key = ``dataset``.
    """

    event_type: Literal["model.registered"] = event_type_field("model.registered")
    run_id: Identifier = Field(description="Training run that produced the version.")
    spec_version: Version = Field(description="Version of the dataset spec it was trained with.")
    alias: Alias = Field(default="candidate", description="Alias the new version starts with.")

    @classmethod
    def example(cls) -> Self:
        """Return version 8 registered as a candidate."""
        return cls(
            event_id="model.registered:payments-fraud:8",
            occurred_at=ex.later(days=9, minutes=5),
            producer="registry",
            causation_id=f"training.completed:{ex.RUN_ID}",
            dataset=ex.DATASET,
            model_name=ex.MODEL_NAME,
            version=8,
            artifact_sha256=ex.ARTIFACT_SHA256,
            artifact_uri=ex.ARTIFACT_URI,
            actor="registry",
            reason=f"training run {ex.RUN_ID} succeeded",
            evidence={"roc_auc": 0.912},
            run_id=ex.RUN_ID,
            spec_version=3,
        )


class ModelPromoted(_ModelVersionEvent):
    """A model version was given a serving alias (``champion`` or ``shadow``).

    Topic ``driftloop.models.promoted.v1``, Kafka key = ``dataset``. The scorer loads the
    version, verifies its digest and swaps it in; the monitor resets its reference.
    """

    event_type: Literal["model.promoted"] = event_type_field("model.promoted")
    alias: Literal["champion", "shadow"] = Field(description="Alias the version now holds.")
    previous_version: Version | None = Field(
        default=None, description="Version that held the alias before; null if none did."
    )

    @classmethod
    def example(cls) -> Self:
        """Return version 8 promoted to champion by the promotion policy."""
        return cls(
            event_id="model.promoted:payments-fraud:8:champion",
            occurred_at=ex.later(days=9, minutes=6),
            producer="registry",
            causation_id="model.registered:payments-fraud:8",
            dataset=ex.DATASET,
            model_name=ex.MODEL_NAME,
            version=8,
            artifact_sha256=ex.ARTIFACT_SHA256,
            artifact_uri=ex.ARTIFACT_URI,
            actor="registry",
            reason="roc_auc improved by 0.038 over champion 7 (policy minimum 0.01)",
            evidence={"roc_auc": 0.912, "champion_roc_auc": 0.874},
            alias="champion",
            previous_version=7,
        )


class ModelRolledBack(_ModelVersionEvent):
    """An alias was moved back from a model version to an earlier one.

    Topic ``driftloop.models.rolled-back.v1``, Kafka key = ``dataset``. ``version`` is the
    version restored; ``previous_version`` the one taken out of service.
    """

    event_type: Literal["model.rolled_back"] = event_type_field("model.rolled_back")
    alias: Literal["champion", "shadow"] = Field(
        default="champion", description="Alias that was moved back."
    )
    previous_version: Version = Field(description="Version that held the alias until now.")

    @classmethod
    def example(cls) -> Self:
        """Return an operator rolling the champion back from version 8 to 7."""
        return cls(
            event_id="model.rolled_back:payments-fraud:7:champion:1737883200",
            occurred_at=ex.later(days=11),
            producer="registry",
            dataset=ex.DATASET,
            model_name=ex.MODEL_NAME,
            version=7,
            artifact_sha256="60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
            actor="bob@example.com",
            reason="false positives up 3x since version 8 went live",
            evidence={"precision": 0.41},
            previous_version=8,
        )


class ModelRetired(_ModelVersionEvent):
    """A model version lost a serving alias and nothing took its place.

    Topic ``driftloop.models.retired.v1``, Kafka key = ``dataset``. Today this ends a shadow
    run: the shadow was promoted to champion, lost against the champion on live labels, or an
    operator retired it. The scorer stops serving ``version`` under ``alias``.
    """

    event_type: Literal["model.retired"] = event_type_field("model.retired")
    alias: Literal["shadow"] = Field(
        default="shadow", description="Alias the version no longer holds."
    )

    @classmethod
    def example(cls) -> Self:
        """Return shadow version 8 retired after losing to the champion on live labels."""
        return cls(
            event_id="model.retired:payments-fraud:8:shadow:2",
            occurred_at=ex.later(days=10),
            producer="registry",
            causation_id="performance.reported:payments:2026-01-11T00:00:00Z",
            dataset=ex.DATASET,
            model_name=ex.MODEL_NAME,
            version=8,
            artifact_sha256=ex.ARTIFACT_SHA256,
            artifact_uri=ex.ARTIFACT_URI,
            actor="registry",
            reason="roc_auc 0.861 vs champion 0.874 on 2,400 shadow-scored events",
            evidence={"roc_auc": 0.861, "champion_roc_auc": 0.874, "events_scored": 2400},
        )
