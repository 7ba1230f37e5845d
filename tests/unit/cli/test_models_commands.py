"""``driftloop models`` and ``driftloop runs``: tables, JSON, promotions and their refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.cli.fakes import FakeRegistry

pytestmark = pytest.mark.unit

SINCE = "2025-03-01T10:00:00+00:00"
MODELS = [
    {
        "name": "fraud",
        "dataset": "fraud",
        "created_at": "2025-02-27T09:00:00+00:00",
        "aliases": {
            "champion": {"version": 3, "revision": 2, "since": SINCE},
            "shadow": {"version": 4, "revision": 1, "since": SINCE},
        },
    },
    {"name": "sensors", "dataset": "sensors", "created_at": SINCE, "aliases": {}},
]
METRICS = {"log_loss": 0.2012, "accuracy": 0.97, "roc_auc": 0.91234, "f1": 0.5, "custom": 1.0}


def version(number: int, stage: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "fraud",
        "dataset": "fraud",
        "version": number,
        "stage": stage,
        "run_id": f"run-{number}",
        "spec_version": 2,
        "metrics": METRICS,
        "created_at": "2025-03-01T09:15:00+00:00",
        "artifact": {"uri": "gridfs://artifacts/x", "sha256": "cd" * 32, "format": "skops"},
        "decision": {
            "action": "promote",
            "reason": "roc_auc improved by 0.01 over the champion (policy minimum 0.005)",
            "evidence": {"roc_auc": 0.91234, "champion_roc_auc": 0.90234, "improvement": 0.01},
        },
        **extra,
    }


LINEAGE = {
    "spec_version": 2,
    "run_id": "run-3",
    "data_window": {
        "first_event_time": "2025-02-20T00:00:00+00:00",
        "last_event_time": "2025-02-27T00:00:00+00:00",
        "row_count": 48210,
    },
    "parent_version": 2,
    "evaluation": {"champion_metrics": {"roc_auc": 0.90234}},
    "trigger_event_id": "drift.detected:fraud:17",
}


def test_list_shows_each_models_champion_and_shadow(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/models", 200, MODELS)

    result = registry.run("models", "list")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "MODEL    DATASET  CHAMPION    SHADOW      CREATED",
        "fraud    fraud    v3 (rev 2)  v4 (rev 1)  2025-02-27 09:00:00Z",
        "sensors  sensors  -           -           2025-03-01 10:00:00Z",
    ]


def test_list_json_parses(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/models", 200, MODELS)

    assert json.loads(registry.run("models", "list", "--json").stdout) == MODELS


def test_list_of_a_model_shows_its_versions_with_key_metrics(registry: FakeRegistry) -> None:
    versions = [version(2, "archived"), version(3, "champion")]
    registry.answer("GET", "/v1/models/fraud/versions", 200, versions)

    result = registry.run("models", "list", "fraud")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["VERSION", "STAGE", "METRICS", "RUN", "CREATED"]
    assert lines[2].startswith("3        champion  roc_auc=0.9123 accuracy=0.97 f1=0.5 (+2)")
    assert lines[2].endswith("run-3  2025-03-01 09:15:00Z")
    assert json.loads(registry.run("models", "list", "fraud", "--json").stdout) == versions


def test_list_of_an_unknown_model(registry: FakeRegistry) -> None:
    registry.fail("GET", "/v1/models/nope/versions", 404, "model nope does not exist")

    result = registry.run("models", "list", "nope")

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "cannot list the versions of model nope: model nope does not exist (HTTP 404)"
    )


def test_show_has_metrics_decision_and_lineage(registry: FakeRegistry) -> None:
    registry.answer(
        "GET", "/v1/models/fraud/versions/3", 200, version(3, "champion", lineage=LINEAGE)
    )

    result = registry.run("models", "show", "fraud", "3")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "stage     champion" in out
    assert "decision  promote: roc_auc improved by 0.01 over the champion" in out
    assert "  roc_auc   0.9123" in out
    assert "  spec version    2" in out
    assert "  run             run-3" in out
    assert "  data window     2025-02-20 00:00:00Z .. 2025-02-27 00:00:00Z (48210 rows)" in out
    assert "  parent version  2" in out
    assert "  parent metrics  roc_auc=0.9023" in out


def test_show_of_a_first_model_without_lineage(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/models/fraud/versions/1", 200, version(1, "champion"))

    result = registry.run("models", "show", "fraud", "1")

    assert result.exit_code == 0, result.output
    assert "lineage  -" in result.stdout


def test_promote_sends_alias_reason_and_revision(registry: FakeRegistry) -> None:
    path = "/v1/models/fraud/versions/4/promote"
    registry.answer("POST", path, 200, {"version": 4, "previous_version": 3, "alias": "champion"})

    result = registry.run(
        "models", "promote", "fraud", "4", "--reason", "shadow beat it", "--expected-revision", "2"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "promoted fraud version 4 to champion (was version 3)\n"
    assert registry.last_json() == {
        "alias": "champion",
        "reason": "shadow beat it",
        "expected_revision": 2,
    }


def test_promote_needs_a_reason(registry: FakeRegistry) -> None:
    result = registry.run("models", "promote", "fraud", "4")

    assert result.exit_code == 2
    assert "--reason" in result.output
    assert registry.requests == []


def test_promote_with_a_viewer_token_names_the_approver_role(registry: FakeRegistry) -> None:
    path = "/v1/models/fraud/versions/4/promote"
    registry.fail("POST", path, 403, "victor has the viewer role; this needs approver")

    result = registry.run("models", "promote", "fraud", "4", "--alias", "shadow", "--reason", "x")

    assert result.exit_code == 1
    assert result.stderr == (
        "cannot promote fraud version 4 to shadow: "
        "victor has the viewer role; this needs approver (HTTP 403)\n"
    )


def test_a_promotion_that_lost_a_race_says_so(registry: FakeRegistry) -> None:
    path = "/v1/models/fraud/versions/4/promote"
    registry.fail("POST", path, 409, "champion of fraud moved meanwhile; reload and try again")

    result = registry.run("models", "promote", "fraud", "4", "--reason", "x")

    assert result.exit_code == 1
    assert "champion of fraud moved meanwhile; reload and try again (HTTP 409)" in result.stderr


def test_rollback(registry: FakeRegistry) -> None:
    event = {"version": 2, "previous_version": 3, "alias": "champion"}
    registry.answer("POST", "/v1/models/fraud/rollback", 200, event)

    result = registry.run("models", "rollback", "fraud", "--reason", "alerts on v3")

    assert result.exit_code == 0, result.output
    assert result.stdout == "rolled back the champion of fraud to version 2 (was version 3)\n"
    assert registry.last_json() == {"alias": "champion", "reason": "alerts on v3"}
    as_json = registry.run("models", "rollback", "fraud", "--reason", "again", "--json")
    assert json.loads(as_json.stdout) == event


def test_rollback_without_history(registry: FakeRegistry) -> None:
    detail = "fraud has no earlier shadow to roll back to"
    registry.fail("POST", "/v1/models/fraud/rollback", 409, detail)

    result = registry.run("models", "rollback", "fraud", "--alias", "shadow", "--reason", "x")

    assert result.exit_code == 1
    assert result.stderr.startswith(f"cannot roll back the shadow of fraud: {detail}")


def test_retire_ends_a_shadow_run(registry: FakeRegistry) -> None:
    event = {"version": 4, "alias": "shadow", "reason": "worse on live labels"}
    registry.answer("POST", "/v1/models/fraud/versions/4/retire", 200, event)

    result = registry.run("models", "retire", "fraud", "4", "--reason", "worse on live labels")

    assert result.exit_code == 0, result.output
    assert result.stdout == "retired the shadow fraud version 4\n"
    assert registry.last_json() == {"reason": "worse on live labels"}
    detail = "version 3 of fraud is not the shadow"
    registry.fail("POST", "/v1/models/fraud/versions/3/retire", 409, detail)
    refused = registry.run("models", "retire", "fraud", "3", "--reason", "x")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"cannot retire the shadow fraud version 3: {detail}")


def test_runs_list(registry: FakeRegistry) -> None:
    runs = [
        {
            "run_id": "run-4",
            "status": "failed",
            "model_name": "fraud",
            "spec_version": 2,
            "failure_reason": "only 120 labelled rows; the spec needs 500",
            "data_window": None,
            "finished_at": "2025-03-02T00:00:00+00:00",
        },
        {
            "run_id": "run-3",
            "status": "succeeded",
            "model_name": "fraud",
            "spec_version": 2,
            "metrics": {"roc_auc": 0.91234},
            "data_window": LINEAGE["data_window"],
            "finished_at": "2025-03-01T09:14:00+00:00",
        },
    ]
    registry.answer("GET", "/v1/runs", 200, runs)

    result = registry.run("runs", "list", "fraud")

    assert result.exit_code == 0, result.output
    assert registry.last.url.params["dataset"] == "fraud"
    assert [line.split()[:5] for line in result.stdout.splitlines()] == [
        ["RUN", "STATUS", "MODEL", "SPEC", "ROWS"],
        ["run-4", "failed", "fraud", "2", "-"],
        ["run-3", "succeeded", "fraud", "2", "48210"],
    ]
    assert "only 120 labelled rows; the spec needs 500" in result.stdout
    assert "roc_auc=0.9123" in result.stdout
    assert json.loads(registry.run("runs", "list", "fraud", "--json").stdout) == runs


def test_runs_list_of_a_dataset_without_runs(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/runs", 200, [])

    result = registry.run("runs", "list", "fraud")

    assert result.exit_code == 0
    assert result.stdout == "no training runs of fraud yet\n"
