"""The label: what the model predicts, the task, and the classes of a classifier.

The label is not one of the spec's fields: a data event carries it in its own ``label`` slot
(when backfilling history), and an outcome event carries it later. Features can never use it.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, Self

from pydantic import Field, Strict, StrictBool, StrictInt, StringConstraints, model_validator

from driftloop_contracts.types import Name
from driftloop_spec._base import NO_VALUE, Problem, SpecModel, Text, spec_problem

__all__ = ["CLASSIFICATION", "LabelSpec", "LabelType", "LabelValue", "Task"]

Task = Literal["binary", "multiclass", "regression"]
"""What is predicted: one of two classes, one of several, or a number."""

CLASSIFICATION: frozenset[str] = frozenset({"binary", "multiclass"})
"""The classification tasks."""

LabelType = Literal["bool", "int", "string", "float"]
"""The type of the label's values (``float`` only for regression)."""

LabelValue = StrictBool | StrictInt | Annotated[str, Strict(), StringConstraints(max_length=256)]
"""A class of a classifier: a boolean, an integer or a string."""

_PYTHON_TYPES: dict[str, type] = {"bool": bool, "int": int, "string": str}


class LabelSpec(SpecModel):
    """The label a model learns to predict."""

    name: Name = Field(description="Name of the label, e.g. 'is_fraud'; must not be a field.")
    task: Task = Field(description="'binary', 'multiclass' or 'regression'.")
    type: LabelType = Field(
        description="Type of the label's values: 'bool', 'int' or 'string' for a classifier, "
        "'float' or 'int' for regression."
    )
    classes: Annotated[tuple[LabelValue, ...], Field(max_length=1024)] | None = Field(
        default=None,
        description="A classifier's classes, of the label's type: exactly 2 for 'binary', at "
        "least 3 for 'multiclass'. None for regression.",
    )
    positive: LabelValue | None = Field(
        default=None, description="The positive class of a binary task (one of its classes)."
    )
    description: Text | None = Field(default=None, description="What the label means.")

    @property
    def is_classifier(self) -> bool:
        """Whether the task is a classification (binary or multiclass)."""
        return self.task in CLASSIFICATION

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = self._regression() if self.task == "regression" else self._classifier()
        if problems:
            raise spec_problem(problems)
        return self

    def _regression(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.type not in ("float", "int"):
            problems.append((("type",), "a regression label is 'float' or 'int'", self.type))
        if self.classes is not None:
            problems.append((("classes",), "a regression label has no classes", self.classes))
        if self.positive is not None:
            problems.append(
                (("positive",), "only a binary label has a positive class", self.positive)
            )
        return problems

    def _classifier(self) -> list[Problem]:
        if self.type == "float":
            return [(("type",), f"a {self.task} label is 'bool', 'int' or 'string'", self.type)]
        if self.classes is None:
            return [(("classes",), f"a {self.task} label lists its classes", NO_VALUE)]
        problems = self._class_values(self.classes)
        if self.task == "binary":
            problems += self._binary(self.classes, classes_ok=not problems)
        else:
            if len(self.classes) < 3:
                problems.append(
                    (
                        ("classes",),
                        "multiclass needs at least 3 classes (use 'binary')",
                        self.classes,
                    )
                )
            if self.positive is not None:
                problems.append(
                    (("positive",), "only a binary label has a positive class", self.positive)
                )
        return problems

    def _class_values(self, classes: tuple[bool | int | str, ...]) -> list[Problem]:
        problems: list[Problem] = []
        expected = _PYTHON_TYPES[self.type]
        seen: list[bool | int | str] = []
        for index, value in enumerate(classes):
            if type(value) is not expected:
                problems.append((("classes", index), f"a class must be of type {self.type}", value))
            elif value in seen:
                problems.append((("classes", index), "duplicate class", value))
            seen.append(value)
        return problems

    def _binary(self, classes: tuple[bool | int | str, ...], classes_ok: bool) -> list[Problem]:
        if len(classes) != 2:
            return [(("classes",), f"binary needs exactly 2 classes, not {len(classes)}", classes)]
        if self.positive is None:
            return [(("positive",), "a binary label names its positive class", NO_VALUE)]
        if classes_ok and not any(
            type(c) is type(self.positive) and c == self.positive for c in classes
        ):
            listed = json.dumps(list(classes))
            return [(("positive",), f"the positive class must be one of {listed}", self.positive)]
        return []
