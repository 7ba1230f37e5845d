"""A scorer killed in the middle of a stream: after the restart every vector has its
prediction, and a vector scored twice (its batch was not committed) has the same id twice."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from driftloop_cli.local.processes import stop
from tests.integration.kafka_helpers import unique
from tests.integration.scorer.conftest import scorer_env, start_scorer
from tests.integration.scorer.helpers import (
    apply_spec,
    predictions_of,
    promote,
    publish_vectors,
    store_model,
    stream,
)

pytestmark = pytest.mark.integration


async def test_a_killed_scorer_resumes_without_losing_a_vector(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    env = scorer_env(infra, tmp_path)
    pid, scorer = start_scorer(env, tmp_path / "scorer.log")
    try:
        spec = await apply_spec(bootstrap, unique("cards"))
        await promote(bootstrap, await store_model(scorer, spec.name, 1))
        vectors = stream(spec, 3000)
        await publish_vectors(bootstrap, vectors[:1500])
        await predictions_of(bootstrap, spec.name, lambda made: len(made) >= 300)
        os.kill(pid, signal.SIGKILL)
        stop(pid)  # reaps it
        await publish_vectors(bootstrap, vectors[1500:])  # the stream goes on while it is down
        pid, scorer = start_scorer(env, tmp_path / "scorer-again.log")
        subjects = {v.subject_event_id for v in vectors}
        made = await predictions_of(
            bootstrap, spec.name, lambda m: {p.subject_event_id for p in m} >= subjects
        )
    finally:
        stop(pid)
    ids = Counter((p.subject_event_id, p.event_id) for p in made)
    assert {subject for subject, _ in ids} == subjects
    assert all(event_id == f"prediction:{spec.name}:1:{s}" for s, event_id in ids)
