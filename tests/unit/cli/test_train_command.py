"""``driftloop train``: the train request it publishes, and what it refuses before sending."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from driftloop_cli.commands import training as command
from driftloop_cli.main import app
from driftloop_contracts import TrainRequested
from driftloop_runtime import RuntimeSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[TrainRequested]:
    """What the command publishes, kept instead of sent to Kafka."""
    kept: list[TrainRequested] = []

    async def publish(_: RuntimeSettings, request: TrainRequested) -> None:
        kept.append(request)

    monkeypatch.setattr(command, "_publish", publish)
    monkeypatch.setenv("USER", "alice")
    return kept


def test_a_manual_request_by_the_user(sent: list[TrainRequested]) -> None:
    result = CliRunner().invoke(app, ["train", "fraud"])
    assert result.exit_code == 0, result.output
    [request] = sent
    assert (request.dataset, request.reason, request.requested_by) == ("fraud", "manual", "alice")
    assert (request.producer, request.window_start) == ("cli", None)
    assert request.event_id.startswith("train-request:")
    assert (
        result.output
        == f"requested training of fraud (manual, by alice): event {request.event_id}\n"
    )


def test_a_window_start_as_a_duration_back_from_now_or_a_time(sent: list[TrainRequested]) -> None:
    before = datetime.now(UTC)
    CliRunner().invoke(app, ["train", "fraud", "--window-start", "6h", "--by", "bob"])
    CliRunner().invoke(
        app, ["train", "fraud", "--window-start", "2026-11-20T08:00:00Z", "--reason", "drift"]
    )
    recent, dated = sent
    assert recent.window_start is not None
    assert (
        before - timedelta(hours=6, seconds=5)
        < recent.window_start
        <= before - timedelta(hours=6) + timedelta(seconds=5)
    )
    assert recent.requested_by == "bob"
    assert (dated.reason, dated.window_start) == ("drift", datetime(2026, 11, 20, 8, tzinfo=UTC))


def test_json_prints_the_request(sent: list[TrainRequested]) -> None:
    result = CliRunner().invoke(app, ["train", "fraud", "--json"])
    assert json.loads(result.output) == sent[0].model_dump(mode="json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "Fraud!"],
            "invalid train request: dataset: Value error, invalid dataset name 'Fraud!'",
        ),
        (["train", "fraud", "--window-start", "soon"], "--window-start: "),
        (["train", "fraud", "--reason", "whim"], "Invalid value for '--reason'"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    sent: list[TrainRequested], args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert sent == []


def test_someone_must_be_asking(
    sent: list[TrainRequested], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USER")
    result = CliRunner().invoke(app, ["train", "fraud"])
    assert (result.exit_code, sent) == (2, [])
    assert "who is asking? pass --by NAME" in result.output
