"""The champion a candidate is compared with: the version the registry's lifecycle events say
serves the dataset, loaded from GridFS with its digest (and, for river, its signature) checked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from driftloop_artifacts import (
    ArtifactNotFoundError,
    ArtifactStore,
    artifact_id_from_uri,
    decode_model,
)
from driftloop_runtime.models import ModelCatalog, ServedVersion

__all__ = ["Champion", "ChampionLoader"]


@dataclass(frozen=True, slots=True)
class Champion:
    """The serving version of a dataset, and its model if it could be loaded."""

    version: int
    model: Any = None
    error: str | None = None


class ChampionLoader:
    """Loads the champion of a dataset, as the model catalog knows it."""

    def __init__(
        self, catalog: ModelCatalog, artifacts: ArtifactStore, signing_key: bytes | None
    ) -> None:
        """Find champions in ``catalog``, their artifacts in ``artifacts``."""
        self._catalog = catalog
        self._artifacts = artifacts
        self._key = signing_key

    def serving(self, dataset: str) -> bool:
        """Whether ``dataset`` has a champion."""
        return self._catalog.serving(dataset) is not None

    async def load(self, dataset: str) -> Champion | None:
        """The champion of ``dataset``, ``None`` without one; a champion that cannot be loaded
        (missing, tampered, unsigned, unknown types) comes back with the reason instead."""
        served = self._catalog.serving(dataset)
        if served is None:
            return None
        try:
            return Champion(served.version, await self._model(served))
        except Exception as error:  # whatever stops it, the candidate is evaluated alone
            reason = (
                f"champion version {served.version} not loaded: {type(error).__name__}: {error}"
            )
            return Champion(served.version, error=reason)

    async def _model(self, served: ServedVersion) -> Any:
        if served.artifact_uri is None:
            raise ArtifactNotFoundError("its lifecycle event names no artifact_uri")
        artifact = await self._artifacts.get(artifact_id_from_uri(served.artifact_uri))
        return await asyncio.to_thread(
            decode_model, artifact, signing_key=self._key, expected_sha256=served.artifact_sha256
        )
