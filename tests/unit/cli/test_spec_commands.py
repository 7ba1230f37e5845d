"""``driftloop spec``: checked locally first, then applied; tables for people, JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.unit.cli.fakes import FRAUD_SPEC, TOKEN, FakeRegistry

pytestmark = pytest.mark.unit

DIGEST = "3f" * 32
APPLIED = {"name": "fraud", "version": 2, "digest": DIGEST, "created": True}
DATASETS = [
    {"name": "fraud", "version": 2, "digest": DIGEST, "applied_at": "2025-03-01T10:00:00Z"},
    {"name": "sensors", "version": 1, "digest": "9a" * 32, "applied_at": "2025-03-02T08:30:05Z"},
]


def test_apply_posts_the_files_text_and_says_which_version(registry: FakeRegistry) -> None:
    registry.answer("POST", "/v1/specs", 201, APPLIED)

    result = registry.run("spec", "apply", str(FRAUD_SPEC))

    assert result.exit_code == 0, result.output
    assert result.stdout == "applied fraud as version 2\n"
    assert registry.last.content == FRAUD_SPEC.read_bytes()
    assert registry.last.headers["content-type"] == "application/yaml"


def test_apply_of_an_identical_spec_says_unchanged(registry: FakeRegistry) -> None:
    registry.answer("POST", "/v1/specs", 200, {**APPLIED, "version": 1, "created": False})

    result = registry.run("spec", "apply", str(FRAUD_SPEC))

    assert result.exit_code == 0
    assert result.stdout == "unchanged: fraud is identical to version 1\n"


def test_apply_json_is_the_apis_answer(registry: FakeRegistry) -> None:
    registry.answer("POST", "/v1/specs", 201, APPLIED)

    result = registry.run("spec", "apply", str(FRAUD_SPEC), "--json")

    assert json.loads(result.stdout) == APPLIED


def test_a_spec_with_an_error_never_reaches_the_api(registry: FakeRegistry, isolated: Path) -> None:
    broken = isolated / "fraud.yaml"
    text = FRAUD_SPEC.read_text().replace("window: 1h", "window: 1 fortnight", 1)
    broken.write_text(text)
    line = text.splitlines().index("    window: 1 fortnight") + 1

    result = registry.run("spec", "apply", str(broken))

    assert result.exit_code == 2
    assert registry.requests == []
    assert "invalid dataset spec (1 problem)" in result.stderr
    assert f"fraud.yaml:{line}:5: features[4].window:" in result.stderr
    assert result.stdout == ""


def test_a_missing_file_is_reported_without_a_traceback(registry: FakeRegistry) -> None:
    result = registry.run("spec", "apply", "nowhere.yaml")

    assert result.exit_code == 2
    assert result.stderr.startswith("nowhere.yaml: cannot read the file:")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_refused_apply_prints_the_apis_detail(registry: FakeRegistry) -> None:
    registry.fail("POST", "/v1/specs", 403, "victor has the viewer role; this needs approver")

    result = registry.run("spec", "apply", str(FRAUD_SPEC))

    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"cannot apply {FRAUD_SPEC}: victor has the viewer role; this needs approver (HTTP 403)"
    )


def test_an_unreachable_registry_is_one_line_and_exit_1(registry: FakeRegistry) -> None:
    registry.raise_("GET", "/v1/specs", httpx.ConnectError("[Errno 111] Connection refused"))

    result = registry.run("spec", "list")

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "cannot reach the registry at http://registry.test: [Errno 111] Connection refused"
    )
    assert "Traceback" not in result.output


def test_without_a_token_nothing_is_sent(registry: FakeRegistry) -> None:
    result = registry.run("spec", "list", token=None)

    assert result.exit_code == 2
    assert "no registry token" in result.stderr
    assert registry.requests == []


def test_url_and_token_come_from_the_environment(
    registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTLOOP_REGISTRY_URL", "http://elsewhere.test:9000/")
    monkeypatch.setenv("DRIFTLOOP_TOKEN", TOKEN)
    registry.answer("GET", "/v1/specs", 200, [])

    result = registry.run("spec", "list", url=None, token=None)

    assert result.exit_code == 0, result.output
    assert str(registry.last.url) == "http://elsewhere.test:9000/v1/specs"
    assert registry.last.headers["authorization"] == f"Bearer {TOKEN}"


def test_list_is_a_table_with_short_digests(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/specs", 200, DATASETS)

    result = registry.run("spec", "list")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "DATASET  VERSION  DIGEST        APPLIED",
        "fraud    2        3f3f3f3f3f3f  2025-03-01 10:00:00Z",
        "sensors  1        9a9a9a9a9a9a  2025-03-02 08:30:05Z",
    ]


def test_list_json_and_empty_list(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/specs", 200, DATASETS)
    assert json.loads(registry.run("spec", "list", "--json").stdout) == DATASETS

    registry.answer("GET", "/v1/specs", 200, [])
    assert "no specs yet" in registry.run("spec", "list").stdout
    assert json.loads(registry.run("spec", "list", "--json").stdout) == []


def test_show_prints_the_summary_and_the_document_as_yaml(registry: FakeRegistry) -> None:
    record = {
        **DATASETS[0],
        "version": 1,
        "applied_by": "alice",
        "document": {"name": "fraud", "entity": "card"},
    }
    registry.answer("GET", "/v1/specs/fraud/versions/1", 200, record)

    result = registry.run("spec", "show", "fraud", "--version", "1")

    assert result.exit_code == 0, result.output
    assert "applied  2025-03-01 10:00:00Z by alice" in result.stdout
    assert f"digest   {DIGEST}" in result.stdout
    assert result.stdout.endswith("name: fraud\nentity: card\n\n")


def test_show_of_an_unknown_dataset(registry: FakeRegistry) -> None:
    registry.fail("GET", "/v1/specs/nope", 404, "spec nope does not exist")

    result = registry.run("spec", "show", "nope")

    assert result.exit_code == 1
    assert result.stderr.startswith("cannot show spec nope: spec nope does not exist (HTTP 404)")


def test_an_invalid_setting_is_named(
    registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTLOOP_REGISTRY_TIMEOUT_S", "soon")

    result = registry.run("spec", "list")

    assert result.exit_code == 2
    assert result.stderr.startswith("invalid driftloop settings: registry_timeout_s: ")
    assert registry.requests == []
