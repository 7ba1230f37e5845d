"""The dataset spec: one document that declares a dataset end to end.

``DatasetSpec`` is what the registry versions and stores, what the CLI applies, and what every
service reads: ingestion its ``fields`` and ``label``, the feature service its ``features``, the
trainer its ``model`` and ``training``, the monitor its ``drift``, the registry its
``promotion``. Its document (``to_document``) is what ``SpecApplied.spec`` carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, model_validator

from driftloop_contracts.specs import spec_digest
from driftloop_contracts.types import MAX_FIELDS, DatasetName, Name
from driftloop_spec._base import SpecModel, Text, Word, spec_problem
from driftloop_spec.checks import (
    check_drift,
    check_features,
    check_label,
    check_model,
    check_promotion,
)
from driftloop_spec.drift import DriftPolicy
from driftloop_spec.errors import SpecError, problems_from
from driftloop_spec.estimator import ModelSpec
from driftloop_spec.features import Feature
from driftloop_spec.fields import FieldSpec
from driftloop_spec.label import LabelSpec
from driftloop_spec.lateness import LatenessSpec
from driftloop_spec.promotion import PromotionPolicy
from driftloop_spec.training import TrainingSpec

__all__ = ["DatasetSpec"]


class DatasetSpec(SpecModel):
    """A dataset's fields, label, features, model, training, drift and promotion policy.

    Construct it with ``from_document`` (a stored document) or ``driftloop_spec.parse_spec`` /
    ``load_spec`` (YAML); both raise ``SpecError`` naming every problem and where it is.
    """

    name: DatasetName = Field(description="Dataset name; data events carry it in 'dataset'.")
    description: Text | None = Field(default=None, description="What the dataset is about.")
    entity: Word = Field(
        description="What an entity is (e.g. 'card'): the data event's entity_id identifies one, "
        "and per-entity aggregates are kept for it."
    )
    fields: Annotated[dict[Name, FieldSpec], Field(min_length=1, max_length=MAX_FIELDS)] = Field(
        description="The fields of a data event by name, with type and bounds."
    )
    label: LabelSpec = Field(description="What the model predicts.")
    features: Annotated[tuple[Feature, ...], Field(min_length=1, max_length=1024)] = Field(
        description="The features, in the order their columns are served."
    )
    model: ModelSpec = Field(description="The estimator or pipeline to train.")
    training: TrainingSpec = Field(description="The training window, holdout and schedule.")
    drift: DriftPolicy = Field(description="The drift detectors and their policy.")
    promotion: PromotionPolicy = Field(description="When and how a candidate is promoted.")
    lateness: LatenessSpec = Field(
        default_factory=LatenessSpec,
        description="How late data events and labels may arrive (defaults: '5m' and '7d').",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            *check_label(self.label, self.fields),
            *check_features(self.features, self.fields, self.label),
            *check_model(self.model, self.label),
            *check_drift(self.drift, self.features, self.label),
            *check_promotion(self.promotion, self.label),
        ]
        if problems:
            raise spec_problem(problems)
        return self

    def feature_columns(self) -> tuple[str, ...]:
        """Return the model's input columns, in the stable order features are served in.

        Each feature contributes its columns in spec order: one column named after it, or for
        ``one_hot`` one per category then ``name:__unknown__``.
        """
        return tuple(column for feature in self.features for column in feature.columns())

    def to_document(self) -> dict[str, Any]:
        """Return the spec as a canonical JSON-compatible document.

        Defaults are filled in, unset optional keys are left out and durations are written in
        their canonical unit, so equal specs have equal documents. This is what the registry
        stores and what ``SpecApplied.spec`` carries.
        """
        document: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return document

    def digest(self) -> str:
        """Return the SHA-256 of the canonical document (``driftloop_contracts.spec_digest``)."""
        return spec_digest(self.to_document())

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str = "<document>") -> Self:
        """Validate a spec document (as stored, or as parsed from YAML or JSON).

        Args:
            document: The spec as a JSON-like mapping.
            source: What to call the document in error messages.

        Returns:
            The validated spec.

        Raises:
            SpecError: Listing every problem with its key path and offending value.
        """
        data = dict(document)
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise SpecError(source, problems_from(error, data)) from None
