"""What each dataset serves now: the swap table a batch takes its models from.

The table is copy-on-write: a swap builds a new mapping and replaces the reference, so a batch
that took ``current`` at its start scores every event with the models it took, and the next
batch takes the new ones. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from driftloop_modeling import ClassLabel
from driftloop_runtime import ServedVersion, ServingAlias

__all__ = ["Refusal", "ServedModel", "Serving", "ServingTable"]

REFUSALS_KEPT = 10
"""Refusals of each dataset kept for ``GET /v1/models`` (all are counted)."""


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A loaded, verified and warmed-up model, and what it was checked against."""

    version: ServedVersion
    model: Any
    feature_names: list[str]
    classes: tuple[ClassLabel, ...] | None
    spec_version: int
    loaded_at: datetime

    def describe(self) -> dict[str, object]:
        v = self.version
        return {
            "model_name": v.model_name,
            "version": v.version,
            "artifact_sha256": v.artifact_sha256,
            "event_id": v.event_id,
            "spec_version": self.spec_version,
            "loaded_at": self.loaded_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Serving:
    """A dataset's champion and shadow (either may be missing)."""

    champion: ServedModel | None = None
    shadow: ServedModel | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A model version that was not swapped in, and why."""

    dataset: str
    alias: ServingAlias
    model_name: str
    version: int
    event_id: str
    reason: str
    at: datetime

    def describe(self) -> dict[str, object]:
        return {
            "alias": self.alias,
            "model_name": self.model_name,
            "version": self.version,
            "event_id": self.event_id,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


class ServingTable:
    """The models each dataset serves, swapped whole between batches."""

    def __init__(self) -> None:
        self._current: Mapping[str, Serving] = MappingProxyType({})
        self._refusals: dict[str, deque[Refusal]] = {}
        self.swaps: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    @property
    def current(self) -> Mapping[str, Serving]:
        """What serves now, per dataset: take it once per batch."""
        return self._current

    def install(self, served: ServedModel) -> None:
        """Make ``served`` hold its alias from the next batch on."""
        self._set(served.version.dataset, served.version.alias, served)
        self.swaps[served.version.dataset] += 1

    def retire(self, dataset: str, alias: ServingAlias) -> None:
        """Stop serving ``alias`` of ``dataset`` from the next batch on."""
        self._set(dataset, alias, None)

    def refuse(self, refusal: Refusal) -> None:
        """Record a version that was not swapped in (what served keeps serving)."""
        kept = self._refusals.setdefault(refusal.dataset, deque(maxlen=REFUSALS_KEPT))
        kept.append(refusal)
        self.refused[refusal.dataset] += 1

    def describe(self) -> dict[str, dict[str, object]]:
        """Per dataset: champion, shadow, refusals counted and the latest ones."""
        datasets = sorted(set(self._current) | set(self._refusals))
        return {dataset: self._describe(dataset) for dataset in datasets}

    def _describe(self, dataset: str) -> dict[str, object]:
        serving = self._current.get(dataset, Serving())
        return {
            "champion": serving.champion.describe() if serving.champion else None,
            "shadow": serving.shadow.describe() if serving.shadow else None,
            "swaps": self.swaps[dataset],
            "refused": self.refused[dataset],
            "refusals": [r.describe() for r in self._refusals.get(dataset, ())],
        }

    def _set(self, dataset: str, alias: ServingAlias, served: ServedModel | None) -> None:
        serving = replace(self._current.get(dataset, Serving()), **{alias: served})
        self._current = MappingProxyType({**self._current, dataset: serving})
