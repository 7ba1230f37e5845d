"""The scorer on the embedded stack: predictions, hot swaps, refusals, shadows, no champion."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from driftloop_contracts import DEAD_LETTER_TOPIC, DeadLettered, PredictionMade
from driftloop_modeling import feature_hashes
from driftloop_spec import DatasetSpec
from tests.integration.conftest import RunningService
from tests.integration.kafka_helpers import unique
from tests.integration.scorer.helpers import (
    apply_spec,
    get_json,
    predictions_of,
    promote,
    publish_vectors,
    read_until,
    store_model,
    stream,
)

pytestmark = pytest.mark.integration


def subjects(made: list[PredictionMade], shadow: bool = False) -> set[str]:
    return {p.subject_event_id for p in made if p.shadow == shadow}


async def serving(scorer: RunningService, dataset: str, version: int, alias: str) -> None:
    await get_json(
        scorer,
        "/v1/models",
        lambda body: (body.get(dataset, {}).get(alias) or {}).get("version") == version,
    )


async def with_champion(bootstrap: str, scorer: RunningService) -> DatasetSpec:
    """A new dataset's spec applied and its version 1 serving as champion."""
    spec = await apply_spec(bootstrap, unique("cards"))
    await promote(bootstrap, await store_model(scorer, spec.name, 1))
    await serving(scorer, spec.name, 1, "champion")
    return spec


async def test_a_promoted_champion_predicts_each_vector_once_with_its_lineage(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    spec = await with_champion(bootstrap, scorer_service)
    dataset = spec.name
    vectors = stream(spec, 200)
    await publish_vectors(bootstrap, vectors)

    made = await predictions_of(bootstrap, dataset, lambda m: len(subjects(m)) >= 200)
    assert len(made) == 200
    by_subject = {p.subject_event_id: p for p in made}
    for vector in vectors:
        p = by_subject[vector.subject_event_id]
        assert p.event_id == f"prediction:{dataset}:1:{vector.subject_event_id}"
        assert (p.model_version, p.shadow, p.causation_id) == (1, False, vector.event_id)
        assert p.features_hash == feature_hashes(vector.feature_names, np.array([vector.values]))[0]
        assert p.source_topic == "driftloop.features.v1"
        assert p.trace_id is not None
        assert p.scores is not None
        assert p.prediction == (p.scores["true"] > p.scores["false"])
    stats = await get_json(scorer_service, "/v1/stats", lambda b: dataset in b["scored"])
    assert stats["scored"][dataset] == {"1": 200}


async def test_a_swap_while_vectors_flow_scores_each_exactly_once(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    spec = await with_champion(bootstrap, scorer_service)
    dataset = spec.name
    second = await store_model(scorer_service, dataset, 2)
    vectors = stream(spec, 1500)
    for n, chunk in enumerate(range(0, 1500, 100)):
        if n == 5:
            await promote(bootstrap, second)
        await publish_vectors(bootstrap, vectors[chunk : chunk + 100])
        await asyncio.sleep(0.1)

    made = await predictions_of(bootstrap, dataset, lambda m: len(subjects(m)) >= 1500)
    assert sorted(p.subject_event_id for p in made) == sorted(v.subject_event_id for v in vectors)
    versions = {p.model_version for p in made}
    assert versions == {1, 2}
    # per partition, once version 2 served, version 1 never served again
    for partition in {p.source_partition for p in made}:
        ordered = sorted((p for p in made if p.source_partition == partition), key=_offset)
        first_v2 = next(i for i, p in enumerate(ordered) if p.model_version == 2)
        assert all(p.model_version == 2 for p in ordered[first_v2:])


def _offset(prediction: PredictionMade) -> int:
    return prediction.source_offset or 0


async def test_a_tampered_artifact_is_refused_and_the_champion_keeps_serving(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    spec = await with_champion(bootstrap, scorer_service)
    dataset = spec.name
    tampered = await promote(
        bootstrap, await store_model(scorer_service, dataset, 2), artifact_sha256="0" * 64
    )
    models = await get_json(scorer_service, "/v1/models", lambda b: b[dataset]["refused"] == 1)
    assert models[dataset]["champion"]["version"] == 1
    assert "digest mismatch" in models[dataset]["refusals"][0]["reason"]

    await publish_vectors(bootstrap, stream(spec, 50))
    made = await predictions_of(bootstrap, dataset, lambda m: len(subjects(m)) >= 50)
    assert {p.model_version for p in made} == {1}
    mine = await read_until(
        bootstrap, DEAD_LETTER_TOPIC, DeadLettered, tampered.event_id.encode(), bool
    )
    assert [(d.error_type, d.source_topic) for d in mine] == [
        ("model_refused", "driftloop.models.promoted.v1")
    ]
    assert "digest mismatch" in mine[0].reason


async def test_a_shadow_scores_every_vector_too_flagged_as_shadow(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap, dataset = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"], unique("cards")
    spec = await apply_spec(bootstrap, dataset)
    await promote(bootstrap, await store_model(scorer_service, dataset, 1))
    await promote(bootstrap, await store_model(scorer_service, dataset, 2), alias="shadow")
    await serving(scorer_service, dataset, 2, "shadow")
    vectors = stream(spec, 100)
    await publish_vectors(bootstrap, vectors)

    made = await predictions_of(bootstrap, dataset, lambda m: len(subjects(m, True)) >= 100)
    assert subjects(made) == subjects(made, shadow=True) == {v.subject_event_id for v in vectors}
    assert {(p.model_version, p.shadow) for p in made} == {(1, False), (2, True)}
    shadowed = next(p for p in made if p.shadow)
    assert shadowed.event_id.startswith(f"prediction.shadow:{dataset}:2:")


async def test_vectors_without_a_champion_are_counted(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap, dataset = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"], unique("cards")
    spec = await apply_spec(bootstrap, dataset)
    await publish_vectors(bootstrap, stream(spec, 30))
    stats = await get_json(
        scorer_service,
        "/v1/stats",
        lambda b: b["unscored"].get(dataset, {}).get("no_champion") == 30,
    )
    assert dataset not in stats["scored"]
