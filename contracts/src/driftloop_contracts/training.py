"""Training: the command that asks for a model, and the result of a training run."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, JsonValue, model_validator

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import ContractModel, Event, event_type_field
from driftloop_contracts.reference import CategoricalReference, FeatureReference, NumericReference
from driftloop_contracts.types import (
    ArtifactUri,
    Count,
    DatasetName,
    Identifier,
    MetricMap,
    Name,
    Sha256Hex,
    ShortText,
    Text,
    Version,
)

__all__ = ["ArtifactRef", "DataWindow", "TrainRequested", "TrainingCompleted"]


class TrainRequested(Event):
    """A command to train a new candidate model for a dataset.

    Topic ``driftloop.train-requests.v1``, Kafka key = ``dataset``. The trainer runs at most one
    training per dataset at a time; a request arriving during a run is served by that run.
    """

    event_type: Literal["train.requested"] = event_type_field("train.requested")
    dataset: DatasetName = Field(description="Dataset to train on; also the Kafka key.")
    reason: Literal["manual", "schedule", "drift", "bootstrap"] = Field(
        description="Why training is requested."
    )
    window_start: AwareDatetime | None = Field(
        default=None,
        description="Train on events from this time on; null for the spec's training window.",
    )
    requested_by: ShortText = Field(description="Who asked: a user, or the requesting service.")

    @classmethod
    def example(cls) -> Self:
        """Return a manual request from an operator."""
        return cls(
            event_id="f4c3b2a1-0d9e-4c8b-a7f6-e5d4c3b2a190",
            occurred_at=ex.later(days=9),
            producer="cli",
            dataset=ex.DATASET,
            reason="manual",
            requested_by="alice@example.com",
        )


class ArtifactRef(ContractModel):
    """Where a model artifact is stored, its digest and its serialisation format."""

    uri: ArtifactUri = Field(
        description="Location of the artifact, e.g. 'gridfs://artifacts/<id>'."
    )
    sha256: Sha256Hex = Field(description="SHA-256 of the artifact bytes, checked before loading.")
    format: Literal["skops", "river-pickle"] = Field(
        description="Serialisation: 'skops' (scikit-learn, loaded without executing code) or "
        "'river-pickle' (a signed pickle of a river model)."
    )

    @classmethod
    def example(cls) -> Self:
        """Return a skops artifact in GridFS."""
        return cls(
            uri=ex.ARTIFACT_URI,
            sha256=ex.ARTIFACT_SHA256,
            format="skops",
        )


class DataWindow(ContractModel):
    """The slice of data a model was trained on."""

    first_event_time: AwareDatetime = Field(description="Event time of the earliest row.")
    last_event_time: AwareDatetime = Field(description="Event time of the latest row.")
    row_count: Count = Field(description="Number of rows (training and holdout).")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.first_event_time > self.last_event_time:
            raise ValueError("first_event_time must not be after last_event_time")
        return self

    @classmethod
    def example(cls) -> Self:
        """Return a window of eight days."""
        return cls(
            first_event_time=ex.later(days=1), last_event_time=ex.later(days=9), row_count=48210
        )


class TrainingCompleted(Event):
    """The result of one training run, successful or not.

    Topic ``driftloop.trainings.v1``, Kafka key = ``dataset``. A succeeded run carries its
    artifact, data window and reference statistics; a failed one carries ``failure_reason``.
    """

    event_type: Literal["training.completed"] = event_type_field("training.completed")
    dataset: DatasetName = Field(description="Dataset trained on; also the Kafka key.")
    run_id: Identifier = Field(description="Id of the training run.")
    model_name: Identifier = Field(description="Registered model name the candidate belongs to.")
    status: Literal["succeeded", "failed"] = Field(description="Outcome of the run.")
    failure_reason: Text | None = Field(default=None, description="Why the run failed.")
    spec_version: Version = Field(description="Version of the dataset spec trained with.")
    artifact: ArtifactRef | None = Field(default=None, description="The trained model artifact.")
    metrics: MetricMap = Field(
        default_factory=dict, description="Candidate's metrics on the holdout, by name."
    )
    champion_version: Version | None = Field(
        default=None, description="Version of the champion evaluated alongside, if any."
    )
    champion_metrics: MetricMap | None = Field(
        default=None, description="Champion's metrics on the same holdout; null without one."
    )
    data_window: DataWindow | None = Field(default=None, description="The data trained on.")
    reference: Annotated[dict[Name, FeatureReference], Field(max_length=1024)] = Field(
        default_factory=dict,
        description="Reference statistics per feature, for the monitor's drift detectors.",
    )
    params: Annotated[dict[Name, JsonValue], Field(max_length=128)] = Field(
        default_factory=dict, description="Model parameters the run used."
    )

    @model_validator(mode="after")
    def _status_consistent(self) -> Self:
        if self.status == "failed" and self.failure_reason is None:
            raise ValueError("a failed run needs a failure_reason")
        if self.status == "succeeded" and (self.artifact is None or self.data_window is None):
            raise ValueError("a succeeded run needs an artifact and a data_window")
        if self.status == "succeeded" and self.failure_reason is not None:
            raise ValueError("a succeeded run has no failure_reason")
        return self

    @classmethod
    def example(cls) -> Self:
        """Return a succeeded run that beat the champion."""
        return cls(
            event_id=f"training.completed:{ex.RUN_ID}",
            occurred_at=ex.later(days=9, minutes=4),
            producer="trainer",
            causation_id=ex.DRIFT_EVENT_ID,
            dataset=ex.DATASET,
            run_id=ex.RUN_ID,
            model_name=ex.MODEL_NAME,
            status="succeeded",
            spec_version=3,
            artifact=ArtifactRef.example(),
            metrics={"roc_auc": 0.912, "log_loss": 0.187},
            champion_version=7,
            champion_metrics={"roc_auc": 0.874, "log_loss": 0.221},
            data_window=DataWindow.example(),
            reference={
                "amount": NumericReference.example(),
                "country": CategoricalReference.example(),
            },
            params={"C": 0.5, "max_iter": 200},
        )
