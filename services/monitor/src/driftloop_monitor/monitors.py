"""Every dataset's ``DatasetMonitor``, kept in step with its spec, its serving versions and their
references, and written to (and read from) the checkpoint."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from driftloop_monitor.monitoring import DatasetMonitor, MonitorPolicy, ServingModel
from driftloop_monitor.references import ReferenceBook
from driftloop_runtime import ModelCatalog, ServingAlias, SpecCatalog
from driftloop_spec import DatasetSpec

__all__ = ["Monitors", "Served"]

logger = logging.getLogger(__name__)

MAX_SKIPPED_DATASETS = 1_000
"""Datasets whose skipped events are counted by name; the rest are counted under ``*``."""

MAX_CATCH_UPS = 100_000
"""Serving states (dataset, champion, shadow) the spec, lifecycle and reference topics are read
again for, at most once each."""

Served = tuple[int | None, bool, int | None, bool]
"""What a monitor was told serves: champion version, its reference known, the same for shadow."""


@dataclass
class _Held:
    monitor: DatasetMonitor
    spec_version: int
    served: Served | None = None


class Monitors:
    """The monitors by dataset. A dataset gets one once it has a spec and a champion; events of
    other datasets are counted as skipped, with the reason."""

    def __init__(
        self,
        policy: MonitorPolicy,
        specs: SpecCatalog,
        models: ModelCatalog,
        references: ReferenceBook,
        catch_up: Callable[[], Awaitable[None]],
    ) -> None:
        """``catch_up`` reads the spec, lifecycle and reference topics again, for a dataset
        whose predictions came before its follower delivered its champion, or whose champion
        came before its spec or reference (the topics are not ordered)."""
        self._policy = policy
        self._specs = specs
        self._models = models
        self._references = references
        self._catch_up = catch_up
        self._caught_up: set[tuple[str, int | None, int | None]] = set()
        self._held: dict[str, _Held] = {}
        self.skipped: Counter[tuple[str, str]] = Counter()

    def datasets(self) -> list[str]:
        return sorted(self._held)

    def get(self, dataset: str) -> DatasetMonitor | None:
        held = self._held.get(dataset)
        return held.monitor if held is not None else None

    async def ready(
        self, dataset: str, events: int, *, predicted: bool = False
    ) -> DatasetMonitor | None:
        """``dataset``'s monitor in step with its spec and serving versions; ``None`` (and
        ``events`` counted as skipped) while it has no spec or no champion. ``predicted``:
        the events hold predictions, so a champion was served (if none is known here, the
        lifecycle follower lags and the topics are read again)."""
        champion = self._models.serving(dataset, "champion")
        held_spec = self._specs.get(dataset)
        shadow = self._models.serving(dataset, "shadow")
        key = (dataset, champion.version if champion else None, shadow.version if shadow else None)
        missing = (
            predicted if champion is None else held_spec is None or self._reference_missing(dataset)
        )
        if missing and key not in self._caught_up and len(self._caught_up) < MAX_CATCH_UPS:
            self._caught_up.add(key)
            await self._catch_up()
            held_spec = self._specs.get(dataset)
            champion = self._models.serving(dataset, "champion")
        held = self._held.get(dataset)
        if held is None and (held_spec is None or champion is None):
            self._skip(dataset, "no_spec" if held_spec is None else "no_champion", events)
            return None
        if held is None:
            assert held_spec is not None
            held = self._held[dataset] = _Held(
                DatasetMonitor(held_spec[1], self._policy), held_spec[0]
            )
        elif held_spec is not None and held_spec[0] > held.spec_version:
            held.monitor.apply_spec(held_spec[1])
            held.spec_version = held_spec[0]
        self._serve(dataset, held)
        return held.monitor

    def serve_all(self) -> bool:
        """Bring every held monitor in step with its serving versions; whether one changed."""
        return any([self._serve(dataset, held) for dataset, held in self._held.items()])

    def _reference_missing(self, dataset: str) -> bool:
        return any(
            (served := self._models.serving(dataset, alias)) is not None
            and self._references.reference(dataset, served.version) is None
            for alias in ("champion", "shadow")
        )

    def _serve(self, dataset: str, held: _Held) -> bool:
        champion = self._serving(dataset, "champion")
        shadow = self._serving(dataset, "shadow")
        served: Served = (
            champion.version if champion else None,
            bool(champion and champion.reference),
            shadow.version if shadow else None,
            bool(shadow and shadow.reference),
        )
        if served != held.served:
            logger.info(
                "%s: champion %s, shadow %s (references known: %s, %s)",
                dataset,
                *served[::2],
                *served[1::2],
            )
            held.monitor.serve(champion, shadow)
            held.served = served
            return True
        return False

    def _serving(self, dataset: str, alias: ServingAlias) -> ServingModel | None:
        version = self._models.serving(dataset, alias)
        if version is None:
            return None
        reference = self._references.reference(dataset, version.version)
        return ServingModel(version.version, reference or {})

    def _skip(self, dataset: str, reason: str, events: int) -> None:
        named = {name for name, _ in self.skipped}
        name = dataset if dataset in named or len(named) < MAX_SKIPPED_DATASETS else "*"
        self.skipped[(name, reason)] += events

    def to_checkpoint(self) -> list[dict[str, Any]]:
        """Each monitor's state, with the spec it follows and what it was told serves."""
        return [
            {
                "dataset": dataset,
                "spec_version": held.spec_version,
                "spec": held.monitor.spec.to_document(),
                "served": list(held.served) if held.served is not None else None,
                "state": held.monitor.to_checkpoint(),
            }
            for dataset, held in sorted(self._held.items())
        ]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        """Take the monitors back from ``to_checkpoint()``'s list (before the first batch; the
        first batch of each dataset brings it in step with the specs and versions now)."""
        for item in saved:
            spec = DatasetSpec.from_document(
                item["spec"], source=f"checkpoint of {item['dataset']}"
            )
            monitor = DatasetMonitor.from_checkpoint(spec, self._policy, item["state"])
            saved_served = item["served"]
            served: Served | None = None
            if saved_served is not None:
                champion, champion_ref, shadow, shadow_ref = saved_served
                served = (champion, bool(champion_ref), shadow, bool(shadow_ref))
            self._held[item["dataset"]] = _Held(monitor, int(item["spec_version"]), served)
