"""Loading a version: download, verify, warm up; anything that fails is a refusal."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from river import linear_model
from sklearn.linear_model import LinearRegression, LogisticRegression

from driftloop_artifacts import Artifact, InMemoryArtifactStore, decode_model, encode_model
from driftloop_contracts import SpecApplied, spec_digest
from driftloop_runtime import ServedVersion, SpecCatalog
from driftloop_scorer.loading import ModelLoader, ModelRefusedError
from driftloop_spec import DatasetSpec

from .helpers import COLUMNS, FRAUD, fitted, served_version

pytestmark = pytest.mark.unit

KEY = b"k" * 32


def catalog(spec: DatasetSpec = FRAUD) -> SpecCatalog:
    document = spec.to_document()
    specs = SpecCatalog()
    specs.apply(
        SpecApplied(
            event_id="spec.applied:fraud:1",
            occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
            producer="registry",
            dataset=spec.name,
            spec_version=1,
            spec=document,
            digest=spec_digest(document),
        )
    )
    return specs


async def stored(store: InMemoryArtifactStore, model: object, version: int = 1) -> ServedVersion:
    artifact = encode_model(model, signing_key=KEY)
    ref = await store.put(artifact, name="fraud", version=version)
    return served_version(version, artifact_sha256=ref.sha256, artifact_uri=ref.uri)


def loader(
    store: InMemoryArtifactStore, key: bytes | None = KEY, specs: SpecCatalog | None = None
) -> ModelLoader:
    specs = catalog() if specs is None else specs
    return ModelLoader(store, specs, signing_key=key, warmup_rows=16, sample=lambda d, c: None)


async def test_a_verified_model_is_loaded_with_the_specs_columns_and_classes() -> None:
    store = InMemoryArtifactStore()
    served = await loader(store).load(await stored(store, fitted(1)))
    assert served.feature_names == COLUMNS
    assert served.classes == (False, True)
    assert served.spec_version == 1
    assert isinstance(served.model, LogisticRegression)


async def test_a_version_found_by_name_when_the_event_has_no_uri() -> None:
    store = InMemoryArtifactStore()
    version = await stored(store, fitted(1), version=4)
    served = await loader(store).load(served_version(4, artifact_sha256=version.artifact_sha256))
    assert served.version.version == 4


async def test_a_digest_mismatch_is_refused() -> None:
    store = InMemoryArtifactStore()
    version = await stored(store, fitted(1))
    tampered = served_version(1, artifact_sha256="f" * 64, artifact_uri=version.artifact_uri)
    with pytest.raises(ModelRefusedError, match="verification failed: digest mismatch"):
        await loader(store).load(tampered)


async def test_a_missing_artifact_is_refused() -> None:
    with pytest.raises(ModelRefusedError, match="no artifact"):
        await loader(InMemoryArtifactStore()).load(served_version(9))
    gone = served_version(9, artifact_uri="gridfs://artifacts/000000000000000000000000")
    with pytest.raises(ModelRefusedError, match="download failed"):
        await loader(InMemoryArtifactStore()).load(gone)


async def test_a_river_model_without_the_signing_key_is_refused() -> None:
    store = InMemoryArtifactStore()
    model = linear_model.LogisticRegression()
    rng = random.Random(1)
    for _ in range(50):
        row = {c: rng.gauss(0, 1) for c in COLUMNS}
        model.learn_one(row, row[COLUMNS[0]] > 0)
    version = await stored(store, model)
    assert (await loader(store).load(version)).classes == (False, True)
    with pytest.raises(ModelRefusedError, match="signing key"):
        await loader(store, key=None).load(version)


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (LinearRegression().fit(np.eye(len(COLUMNS)), np.arange(len(COLUMNS))), "needs a class"),
        (fitted(1, columns=3), "warm-up failed: ValueError"),
        (
            LogisticRegression().fit(np.eye(3, len(COLUMNS)), ["a", "b", "c"]),
            "not in",
        ),
    ],
)
async def test_a_model_that_does_not_fit_the_spec_is_refused(model: object, reason: str) -> None:
    store = InMemoryArtifactStore()
    with pytest.raises(ModelRefusedError, match=reason):
        await loader(store).load(await stored(store, model))


async def test_without_a_spec_a_version_is_refused() -> None:
    store = InMemoryArtifactStore()
    empty = ModelLoader(
        store, SpecCatalog(), signing_key=KEY, warmup_rows=4, sample=lambda d, c: None
    )
    with pytest.raises(ModelRefusedError, match="no spec"):
        await empty.load(await stored(store, fitted(1)))


async def test_a_version_verified_before_swaps_back_without_decoding_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = InMemoryArtifactStore()
    first, second = await stored(store, fitted(1), 1), await stored(store, fitted(2), 2)
    decoded: list[str] = []

    def decode(artifact: Artifact, **checks: Any) -> Any:
        decoded.append(artifact.sha256)
        return decode_model(artifact, **checks)

    monkeypatch.setattr("driftloop_scorer.loading.decode_model", decode)
    models = loader(store)
    for version in (first, second, first):  # promoted, then rolled back
        await models.load(version)
    assert decoded == [first.artifact_sha256, second.artifact_sha256]
    with pytest.raises(ModelRefusedError, match="digest mismatch"):
        await models.load(replace(first, artifact_sha256="f" * 64))
