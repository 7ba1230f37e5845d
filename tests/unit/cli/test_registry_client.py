"""The registry client: what it sends, and how each failure becomes a message for a person."""

from __future__ import annotations

import httpx
import pytest

from driftloop_cli.registry_client import (
    RegistryClient,
    RegistryClientError,
    RegistryRefusedError,
    RegistryUnreachableError,
)
from tests.unit.cli.fakes import TOKEN, URL, FakeRegistry

pytestmark = pytest.mark.unit


def client(registry: FakeRegistry, timeout_s: float = 10.0) -> RegistryClient:
    return RegistryClient(URL, TOKEN, timeout_s=timeout_s, transport=registry.transport)


def test_apply_sends_the_yaml_text_with_its_content_type_and_the_bearer_token(
    registry: FakeRegistry,
) -> None:
    answer = {"name": "fraud", "version": 1, "digest": "ab" * 32, "created": True}
    registry.answer("POST", "/v1/specs", 201, answer)

    assert client(registry).apply_spec("name: fraud\n", source="fraud.yaml") == answer
    sent = registry.last
    assert sent.headers["content-type"] == "application/yaml"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.content == b"name: fraud\n"


def test_promote_sends_the_expected_revision_only_when_given(registry: FakeRegistry) -> None:
    path = "/v1/models/fraud/versions/3/promote"
    registry.answer("POST", path, 200, {"version": 3})

    client(registry).promote("fraud", 3, alias="shadow", reason="try it")
    assert registry.last_json() == {"alias": "shadow", "reason": "try it"}
    client(registry).promote("fraud", 3, alias="champion", reason="go", expected_revision=4)
    assert registry.last_json() == {"alias": "champion", "reason": "go", "expected_revision": 4}


def test_runs_are_asked_for_by_dataset(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/runs", 200, [])

    assert client(registry).runs("fraud") == []
    assert registry.last.url.params["dataset"] == "fraud"


def test_a_name_stays_one_path_segment(registry: FakeRegistry) -> None:
    with pytest.raises(RegistryRefusedError):
        client(registry).versions("a/b")
    assert registry.last.url.raw_path == b"/v1/models/a%2Fb/versions"


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (401, "unknown bearer token"),
        (403, "victor has the viewer role; this needs approver"),
        (404, "model fraud has no version 9"),
        (409, "champion of fraud moved meanwhile; reload and try again"),
        (422, "request body:4:3: features[0].window: not a duration"),
    ],
)
def test_a_refusal_says_what_was_attempted_and_the_apis_detail(
    registry: FakeRegistry, status: int, detail: str
) -> None:
    registry.fail("POST", "/v1/models/fraud/versions/9/promote", status, detail)

    with pytest.raises(RegistryRefusedError) as caught:
        client(registry).promote("fraud", 9, alias="champion", reason="because")
    assert caught.value.status == status
    assert str(caught.value).startswith(f"cannot promote fraud version 9 to champion: {detail}")
    assert f"(HTTP {status})" in str(caught.value)


def test_an_unknown_token_hints_at_where_the_token_comes_from(registry: FakeRegistry) -> None:
    registry.fail("GET", "/v1/specs", 401, "unknown bearer token")

    with pytest.raises(RegistryRefusedError, match="DRIFTLOOP_TOKEN or --token"):
        client(registry).specs()


def test_fastapi_validation_errors_are_joined_per_field(registry: FakeRegistry) -> None:
    problems = [
        {"loc": ["body", "reason"], "msg": "String should have at least 1 character"},
        {"loc": ["body", "alias"], "msg": "Input should be 'champion' or 'shadow'"},
    ]
    registry.fail("POST", "/v1/models/fraud/rollback", 422, problems)

    with pytest.raises(RegistryRefusedError) as caught:
        client(registry).rollback("fraud", alias="champion", reason="")
    assert caught.value.detail == (
        "reason: String should have at least 1 character; "
        "alias: Input should be 'champion' or 'shadow'"
    )


def test_an_error_that_is_not_json_shows_its_text(registry: FakeRegistry) -> None:
    registry.routes[("GET", "/v1/models")] = httpx.Response(502, text="Bad Gateway from proxy")

    with pytest.raises(RegistryRefusedError, match="cannot list the models: Bad Gateway from"):
        client(registry).models()


def test_a_refused_connection_names_the_url(registry: FakeRegistry) -> None:
    registry.raise_("GET", "/v1/specs", httpx.ConnectError("[Errno 111] Connection refused"))

    with pytest.raises(RegistryUnreachableError) as caught:
        client(registry).specs()
    assert str(caught.value).startswith(
        f"cannot reach the registry at {URL}: [Errno 111] Connection refused"
    )


def test_a_timeout_says_the_outcome_is_unknown(registry: FakeRegistry) -> None:
    registry.raise_("POST", "/v1/specs", httpx.ReadTimeout("timed out"))

    with pytest.raises(RegistryUnreachableError) as caught:
        client(registry, timeout_s=2.5).apply_spec("name: x", source="x.yaml")
    assert str(caught.value) == (
        f"the registry at {URL} did not answer within 2.5s while trying to apply x.yaml; "
        "it may or may not have done it"
    )


def test_an_answer_of_the_wrong_shape_is_an_error(registry: FakeRegistry) -> None:
    registry.routes[("GET", "/v1/specs")] = httpx.Response(200, text="<html>hello</html>")
    registry.answer("GET", "/v1/models", 200, {"not": "a list"})

    with pytest.raises(RegistryClientError, match="is not JSON"):
        client(registry).specs()
    with pytest.raises(RegistryClientError, match="is not a JSON list of objects"):
        client(registry).models()


def test_no_token_sends_no_authorization_header(registry: FakeRegistry) -> None:
    registry.answer("GET", "/v1/specs", 200, [])

    RegistryClient(URL, None, transport=registry.transport).specs()
    assert "authorization" not in registry.last.headers
