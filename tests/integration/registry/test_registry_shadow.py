"""Shadow-first promotion: a better candidate serves in shadow for the policy's number of events,
then the registry promotes or retires it on the live metrics the monitor reports."""

from __future__ import annotations

import uuid

import pytest

from driftloop_contracts import (
    MODELS_PROMOTED_TOPIC,
    MODELS_RETIRED_TOPIC,
    ModelPromoted,
    ModelRetired,
)
from tests.integration.conftest import RunningService
from tests.integration.registry.helpers import (
    apply_spec,
    client,
    performance_report,
    publish_report,
    publish_training,
    store_model,
    training_result,
    wait_for_json,
)
from tests.integration.registry.test_registry_lifecycle import events_of

pytestmark = pytest.mark.integration


async def champion_and_shadow(infra: dict[str, str], service: RunningService) -> str:
    """A dataset with a shadow-first policy (1,000 events), champion v1 and shadow v2."""
    dataset = f"shadowed-{uuid.uuid4().hex[:8]}"
    await apply_spec(service, dataset, mode="shadow", shadow_events=1000)
    first = training_result(dataset, await store_model(service, dataset, 1), roc_auc=0.80)
    await publish_training(infra, first)
    await wait_for_json(service, f"/v1/models/{dataset}/champion", lambda b: b["version"] == 1)
    better = training_result(
        dataset, await store_model(service, dataset, 2, seed=5), roc_auc=0.90, champion=(1, 0.80)
    )
    await publish_training(infra, better)
    await wait_for_json(
        service, f"/v1/models/{dataset}/versions/2", lambda b: b["stage"] == "shadow"
    )
    return dataset


async def test_a_shadow_that_wins_on_live_labels_is_promoted_after_enough_events(
    infra: dict[str, str], registry_service: RunningService
) -> None:
    dataset = await champion_and_shadow(infra, registry_service)
    early = performance_report(dataset, champion=(1, 0.80), shadow=(2, 0.88), events=600)
    await publish_report(infra, early)
    await publish_report(infra, early)  # a redelivery must not count twice
    later = performance_report(dataset, champion=(1, 0.80), shadow=(2, 0.88), events=500)
    await publish_report(infra, later)

    await wait_for_json(
        registry_service, f"/v1/models/{dataset}/champion", lambda b: b["version"] == 2
    )
    async with client(registry_service) as http:
        model = (await http.get(f"/v1/models/{dataset}")).json()
    promoted = await events_of(infra, MODELS_PROMOTED_TOPIC, ModelPromoted, dataset, 3)
    retired = await events_of(infra, MODELS_RETIRED_TOPIC, ModelRetired, dataset, 1)

    assert [(e.version, e.alias) for e in promoted] == [
        (1, "champion"),
        (2, "shadow"),
        (2, "champion"),
    ]
    assert promoted[2].causation_id == later.event_id
    assert promoted[2].evidence["events_scored"] == 1100  # 600 once, then 500
    assert [(e.version, e.alias, e.causation_id) for e in retired] == [
        (2, "shadow", later.event_id)
    ]
    assert set(model["aliases"]) == {"champion"}
    assert {v["version"]: v["stage"] for v in model["versions"]} == {1: "archived", 2: "champion"}


async def test_a_shadow_that_loses_on_live_labels_is_retired(
    infra: dict[str, str], registry_service: RunningService
) -> None:
    dataset = await champion_and_shadow(infra, registry_service)
    waiting = performance_report(dataset, champion=(1, 0.80), shadow=(2, 0.70), events=400)
    await publish_report(infra, waiting)  # worse, but not enough events yet: nothing happens
    await publish_report(
        infra, performance_report(dataset, champion=(1, 0.80), shadow=(2, 0.70), events=800)
    )

    version = await wait_for_json(
        registry_service, f"/v1/models/{dataset}/versions/2", lambda b: b["stage"] == "archived"
    )
    async with client(registry_service) as http:
        champion = (await http.get(f"/v1/models/{dataset}/champion")).json()
        model = (await http.get(f"/v1/models/{dataset}")).json()
    retired = await events_of(infra, MODELS_RETIRED_TOPIC, ModelRetired, dataset, 1)

    assert champion["version"] == 1
    assert set(model["aliases"]) == {"champion"}
    assert version["stage"] == "archived"
    assert [(e.version, e.actor) for e in retired] == [(2, "registry")]
    assert "after 1200 shadow-scored events" in retired[0].reason
    assert "below the policy minimum" in retired[0].reason
