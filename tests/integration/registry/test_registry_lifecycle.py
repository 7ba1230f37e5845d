"""The registry on the embedded broker and store: registration, promotion, rollback, audit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from driftloop_contracts import (
    DEAD_LETTER_TOPIC,
    MODELS_PROMOTED_TOPIC,
    MODELS_REGISTERED_TOPIC,
    MODELS_ROLLED_BACK_TOPIC,
    DeadLettered,
    Event,
    ModelPromoted,
    ModelRegistered,
    ModelRolledBack,
)
from driftloop_runtime import RuntimeSettings, create_mongo_client
from tests.integration.conftest import RunningService
from tests.integration.kafka_helpers import read_all
from tests.integration.registry.helpers import (
    apply_spec,
    client,
    publish_training,
    store_model,
    training_result,
    wait_for_json,
)

pytestmark = pytest.mark.integration


def dataset_name() -> str:
    return f"fraud-{uuid.uuid4().hex[:8]}"


E = TypeVar("E", bound=Event)


async def events_of(
    infra: dict[str, str], topic: str, model_cls: type[E], dataset: str, expect: int
) -> list[E]:
    """Every distinct event (by event id, as consumers de-duplicate) of ``dataset`` on
    ``topic``, once ``expect`` of them have arrived (or a timeout)."""
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    for _ in range(30):
        records = await read_all(bootstrap, topic, expect=10**6, timeout_s=1)
        events = [model_cls.model_validate_json(r.value) for r in records]
        mine = list(
            {e.event_id: e for e in events if getattr(e, "dataset", None) == dataset}.values()
        )
        if len(mine) >= expect:
            return mine
    return mine


async def dead_letters_caused_by(infra: dict[str, str], event_id: str) -> list[DeadLettered]:
    """The dead letters of event ``event_id``, once there is one (or after a timeout)."""
    for _ in range(30):
        records = await read_all(
            infra["DRIFTLOOP_KAFKA_BOOTSTRAP"], DEAD_LETTER_TOPIC, expect=10**6, timeout_s=1
        )
        letters = [DeadLettered.model_validate_json(r.value) for r in records]
        if mine := [letter for letter in letters if letter.causation_id == event_id]:
            return mine
    return []


async def register_first_version(
    infra: dict[str, str], service: RunningService, dataset: str
) -> None:
    await apply_spec(service, dataset)
    artifact = await store_model(service, dataset, 1)
    await publish_training(infra, training_result(dataset, artifact, roc_auc=0.80))
    await wait_for_json(service, f"/v1/models/{dataset}/champion", lambda b: b["version"] == 1)


async def test_a_repeated_training_result_registers_one_version(
    infra: dict[str, str], registry_service: RunningService
) -> None:
    dataset = dataset_name()
    await apply_spec(registry_service, dataset)
    artifact = await store_model(registry_service, dataset, 1)
    result = training_result(dataset, artifact, roc_auc=0.81)
    await publish_training(infra, result)
    await publish_training(infra, result)  # a redelivery, or a trainer retry

    versions = await wait_for_json(
        registry_service, f"/v1/models/{dataset}/versions", lambda body: len(body) >= 1
    )
    registered = await events_of(infra, MODELS_REGISTERED_TOPIC, ModelRegistered, dataset, 1)
    await asyncio.sleep(1)  # time for a wrongly registered second version to show up
    async with client(registry_service) as http:
        versions = (await http.get(f"/v1/models/{dataset}/versions")).json()
        run = (await http.get(f"/v1/runs/{result.run_id}")).json()
        detail = (await http.get(f"/v1/models/{dataset}/versions/1")).json()
    assert [v["version"] for v in versions] == [1]
    assert {e.event_id for e in registered} == {f"model.registered:{dataset}:1"}
    assert registered[0].causation_id == result.event_id
    assert run["status"] == "succeeded"
    assert run["data_window"]["row_count"] == 5000
    # the first model of a dataset becomes its champion, with its lineage recorded
    assert detail["stage"] == "champion"
    assert detail["lineage"]["spec_version"] == 1
    assert detail["lineage"]["run_id"] == result.run_id
    promoted = await events_of(infra, MODELS_PROMOTED_TOPIC, ModelPromoted, dataset, 1)
    assert [(e.version, e.alias, e.causation_id) for e in promoted] == [
        (1, "champion", f"model.registered:{dataset}:1")
    ]


async def test_policy_promotion_then_rollback_with_events_audit_and_history(
    infra: dict[str, str], registry_service: RunningService
) -> None:
    dataset = dataset_name()
    await register_first_version(infra, registry_service, dataset)
    between = datetime.now(UTC)

    better = training_result(
        dataset,
        await store_model(registry_service, dataset, 2, seed=1),
        roc_auc=0.86,
        champion=(1, 0.80),
    )
    worse = training_result(
        dataset,
        await store_model(registry_service, dataset, 3, seed=2),
        roc_auc=0.861,
        champion=(2, 0.86),
    )  # +0.001 < policy's 0.005
    await publish_training(infra, better)
    await wait_for_json(
        registry_service, f"/v1/models/{dataset}/champion", lambda b: b["version"] == 2
    )
    await publish_training(infra, worse)
    v3 = await wait_for_json(
        registry_service, f"/v1/models/{dataset}/versions/3", lambda b: b["stage"] == "archived"
    )
    assert v3["decision"]["action"] == "reject"
    assert "below the policy minimum" in v3["decision"]["reason"]

    async with client(registry_service) as http:
        rolled = await http.post(
            f"/v1/models/{dataset}/rollback", json={"reason": "false positives up since v2"}
        )
        assert rolled.status_code == 200, rolled.text
        champion_now = (await http.get(f"/v1/models/{dataset}/champion")).json()
        champion_then = (
            await http.get(f"/v1/models/{dataset}/champion", params={"at": between.isoformat()})
        ).json()
        again = await http.post(f"/v1/models/{dataset}/rollback", json={"reason": "again"})
        audit = (await http.get("/v1/audit", params={"target": f"model:{dataset}:1"})).json()

    assert champion_now["version"] == 1
    assert champion_then["version"] == 1
    assert again.status_code == 409
    assert "no earlier champion" in again.json()["detail"]
    rollbacks = await events_of(infra, MODELS_ROLLED_BACK_TOPIC, ModelRolledBack, dataset, 1)
    assert [(e.version, e.previous_version, e.actor) for e in rollbacks] == [(1, 2, "alice")]
    promoted = await events_of(infra, MODELS_PROMOTED_TOPIC, ModelPromoted, dataset, 2)
    assert [(e.version, e.previous_version) for e in promoted] == [(1, None), (2, 1)]
    assert promoted[1].evidence["improvement"] == pytest.approx(0.06)
    assert [(a["actor"], a["action"]) for a in audit][:1] == [("alice", "alias.rollback")]
    assert audit[0]["detail"] == "champion: false positives up since v2"


async def test_two_concurrent_promotions_leave_one_consistent_champion(
    infra: dict[str, str], registry_service: RunningService
) -> None:
    dataset = dataset_name()
    await register_first_version(infra, registry_service, dataset)
    for version, seed in ((2, 3), (3, 4)):  # two candidates the policy keeps out of service
        result = training_result(
            dataset,
            await store_model(registry_service, dataset, version, seed=seed),
            roc_auc=0.70,
            champion=(1, 0.80),
        )
        await publish_training(infra, result)
        await wait_for_json(
            registry_service,
            f"/v1/models/{dataset}/versions/{version}",
            lambda b: b["stage"] == "archived",
        )

    async with client(registry_service) as http:
        model = (await http.get(f"/v1/models/{dataset}")).json()
        revision = model["aliases"]["champion"]["revision"]
        answers = await asyncio.gather(
            *(
                http.post(
                    f"/v1/models/{dataset}/versions/{v}/promote",
                    json={"reason": f"operator picks {v}", "expected_revision": revision},
                )
                for v in (2, 3)
            )
        )
        stale = await http.post(
            f"/v1/models/{dataset}/versions/1/promote",
            json={"reason": "from a stale page", "expected_revision": revision},
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409]
    assert stale.status_code == 409
    assert "moved meanwhile" in stale.json()["detail"]
    async with client(registry_service) as http:
        history = (await http.get(f"/v1/models/{dataset}/history")).json()
        champion = (await http.get(f"/v1/models/{dataset}/champion")).json()
        versions = (await http.get(f"/v1/models/{dataset}/versions")).json()
    winner = next(a for a in answers if a.status_code == 200).json()["version"]
    assert champion["version"] == winner
    assert [m["version"] for m in history if m["alias"] == "champion"] == [1, winner]
    assert [v["version"] for v in versions if v["stage"] == "champion"] == [winner]


async def test_a_training_result_whose_artifact_was_tampered_with_is_dead_lettered(
    infra: dict[str, str], registry_service: RunningService
) -> None:
    dataset = dataset_name()
    await apply_spec(registry_service, dataset)
    artifact = await store_model(registry_service, dataset, 1)
    settings = RuntimeSettings(
        mongo_uri=registry_service.env["DRIFTLOOP_MONGO_URI"],
        mongo_database=registry_service.env["DRIFTLOOP_MONGO_DATABASE"],
    )
    mongo = create_mongo_client(settings, appname="tests")
    try:
        chunks = mongo[settings.mongo_database]["artifacts.chunks"]
        file_id = artifact.uri.rsplit("/", 1)[1]
        chunk = await chunks.find_one({"files_id": {"$exists": True}, "n": 0}, sort=[("_id", -1)])
        assert chunk is not None
        assert str(chunk["files_id"]) == file_id
        data = bytearray(chunk["data"])
        data[len(data) // 2] ^= 0xFF
        await chunks.update_one({"_id": chunk["_id"]}, {"$set": {"data": bytes(data)}})
    finally:
        await mongo.close()
    result = training_result(dataset, artifact, roc_auc=0.9)
    await publish_training(infra, result)

    letters = await dead_letters_caused_by(infra, result.event_id)
    assert len(letters) == 1
    assert "digest" in letters[0].reason.lower()
    assert letters[0].consumer_group == "registry"
    async with client(registry_service) as http:
        assert (await http.get(f"/v1/models/{dataset}/versions")).status_code == 404


async def test_unauthenticated_and_wrong_role_calls_are_refused(
    registry_service: RunningService,
) -> None:
    dataset = dataset_name()
    async with client(registry_service, token="") as anonymous:
        missing = await anonymous.get("/v1/specs")
    async with client(registry_service, token="not-a-real-token-at-all") as stranger:
        unknown = await stranger.get("/v1/specs")
    async with client(registry_service, token=registry_service.viewer_token) as viewer:
        read = await viewer.get("/v1/specs")
        write = await viewer.post(f"/v1/models/{dataset}/rollback", json={"reason": "x"})
    assert (missing.status_code, missing.json()["detail"]) == (
        401,
        "missing bearer token (Authorization header)",
    )
    assert (unknown.status_code, unknown.json()["detail"]) == (401, "unknown bearer token")
    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["detail"] == "victor has the viewer role; this needs approver"
