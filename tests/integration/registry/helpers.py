"""Building what the registry consumes: specs with unique names, stored models, training results."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

from driftloop_artifacts import GridFSArtifactStore, encode_model
from driftloop_contracts import (
    PERFORMANCE_TOPIC,
    TRAININGS_TOPIC,
    ArtifactRef,
    DataWindow,
    PerformanceReported,
    ShadowComparison,
    TimeWindow,
    TrainingCompleted,
)
from driftloop_runtime import RuntimeSettings, create_mongo_client
from tests.integration.conftest import RunningService
from tests.integration.kafka_helpers import produce

FRAUD_SPEC = Path(__file__).parents[3] / "specs" / "fraud.yaml"
START = datetime(2026, 11, 1, tzinfo=UTC)


def spec_text(dataset: str, **promotion: Any) -> str:
    """specs/fraud.yaml as the spec of ``dataset``, its promotion policy changed by
    ``promotion``."""
    document = yaml.safe_load(FRAUD_SPEC.read_text())
    document["name"] = dataset
    document["promotion"] |= promotion
    return yaml.safe_dump(document, sort_keys=False)


def client(service: RunningService, token: str | None = None) -> httpx.AsyncClient:
    """An HTTP client of the registry, as the approver unless another token is given."""
    bearer = service.approver_token if token is None else token
    return httpx.AsyncClient(
        base_url=service.url,
        timeout=30,
        headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
    )


async def apply_spec(service: RunningService, dataset: str, **promotion: Any) -> int:
    """Apply the fraud spec as ``dataset`` (with ``promotion`` changes); return its version."""
    async with client(service) as http:
        response = await http.post(
            "/v1/specs",
            content=spec_text(dataset, **promotion),
            headers={"Content-Type": "application/yaml"},
        )
    response.raise_for_status()
    version: int = response.json()["version"]
    return version


async def store_model(
    service: RunningService, name: str, version_hint: int, seed: int = 0
) -> ArtifactRef:
    """Fit a small model, store it in the registry's GridFS, return its reference."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(200, 3))
    model = LogisticRegression().fit(features, features[:, 0] > 0)
    artifact = encode_model(model)
    settings = RuntimeSettings(
        mongo_uri=service.env["DRIFTLOOP_MONGO_URI"],
        mongo_database=service.env["DRIFTLOOP_MONGO_DATABASE"],
    )
    mongo = create_mongo_client(settings, appname="tests")
    try:
        store = GridFSArtifactStore(mongo[settings.mongo_database])
        stored = await store.put(artifact, name=name, version=version_hint)
    finally:
        await mongo.close()
    return ArtifactRef(uri=stored.uri, sha256=stored.sha256, format=stored.format)


def training_result(
    dataset: str,
    artifact: ArtifactRef,
    *,
    roc_auc: float,
    champion: tuple[int, float] | None = None,
    spec_version: int = 1,
    run: str | None = None,
) -> TrainingCompleted:
    """A succeeded training run of ``dataset`` with the given holdout ROC AUC."""
    run_id = run or f"run-{uuid.uuid4().hex[:12]}"
    return TrainingCompleted(
        event_id=f"training.completed:{run_id}",
        occurred_at=START + timedelta(days=8),
        producer="trainer",
        dataset=dataset,
        run_id=run_id,
        model_name=dataset,
        status="succeeded",
        spec_version=spec_version,
        artifact=artifact,
        metrics={"roc_auc": roc_auc, "log_loss": 0.2},
        champion_version=champion[0] if champion else None,
        champion_metrics={"roc_auc": champion[1]} if champion else None,
        data_window=DataWindow(
            first_event_time=START, last_event_time=START + timedelta(days=7), row_count=5000
        ),
        params={"C": 1.0},
    )


def performance_report(
    dataset: str, champion: tuple[int, float], shadow: tuple[int, float], events: int
) -> PerformanceReported:
    """The monitor's report of a window of ``events`` labelled predictions: the champion's and
    the shadow's live ROC AUC."""
    end = START + timedelta(days=9, minutes=random.randrange(10**6))
    return PerformanceReported(
        event_id=f"performance.reported:{dataset}:{uuid.uuid4().hex[:8]}",
        occurred_at=end,
        producer="monitor",
        dataset=dataset,
        model_version=champion[0],
        window=TimeWindow(start=end - timedelta(hours=1), end=end, size=events),
        metrics={"roc_auc": champion[1]},
        label_coverage=0.9,
        shadow=ShadowComparison(model_version=shadow[0], metrics={"roc_auc": shadow[1]}),
    )


async def publish_report(infra: dict[str, str], report: PerformanceReported) -> None:
    """Publish a performance report where the monitor would."""
    await produce(
        infra["DRIFTLOOP_KAFKA_BOOTSTRAP"],
        PERFORMANCE_TOPIC,
        [(report.dataset.encode(), report.model_dump_json().encode(), [])],
    )


async def publish_training(infra: dict[str, str], result: TrainingCompleted) -> None:
    """Publish a training result where the trainer would."""
    await produce(
        infra["DRIFTLOOP_KAFKA_BOOTSTRAP"],
        TRAININGS_TOPIC,
        [(result.dataset.encode(), result.model_dump_json().encode(), [])],
    )


async def wait_for_json(
    service: RunningService, path: str, until: Any, timeout_s: float = 30
) -> Any:
    """GET ``path`` until ``until(body)`` is true; return that body."""
    async with client(service) as http:
        for _ in range(int(timeout_s * 5)):
            response = await http.get(path)
            if response.status_code == 200 and until(response.json()):
                return response.json()
            await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never satisfied the condition; last: {response.text}")
