"""Grouping, selecting and replaying dead letters (``driftloop deadletters``), without Kafka."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from driftloop_cli import deadletters as dl
from driftloop_cli.main import app
from driftloop_contracts import DATA_TOPIC, OUTCOMES_TOPIC, DataEvent, DeadLettered
from driftloop_runtime import Rejection, SourceRecord, dead_letter
from driftloop_runtime.delivery import BatchPipeline
from driftloop_runtime.publishing import MAX_ORIGINAL_KEPT
from tests.unit.ingestion.helpers import data_event

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


def letter(
    offset: int,
    reason: str,
    *,
    error_type: str = "spec",
    topic: str = DATA_TOPIC,
    minutes: int = 0,
    event_id: str | None = None,
    value: bytes | None = None,
) -> DeadLettered:
    """A dead letter as the runtime makes it, for the record at ``offset``."""
    original = (
        value
        if value is not None
        else data_event(event_id or f"e-{offset}").model_dump_json().encode()
    )
    source = SourceRecord(topic, 0, offset, b"card-1", original)
    made = dead_letter(
        Rejection(source, reason, error_type, event_id),
        service="ingestion",
        consumer_group="ingestion",
    ).event
    assert isinstance(made, DeadLettered)
    return made.model_copy(update={"occurred_at": T0 + timedelta(minutes=minutes)})


@pytest.mark.parametrize(
    ("reason", "pattern"),
    [
        ("amount: -5 is below the minimum 0.0", "amount: N is below the minimum N"),
        (
            "amount: 1e3 is above the maximum 99.5; country: missing (required)",
            "amount: N is above the maximum N",
        ),
        (
            'merchant_category: "casino" is not one of ["grocery", "fuel"]',
            'merchant_category: "…" is not one of […]',
        ),
        (
            "message: 300123 bytes, over the limit of 262144 bytes",
            "message: N bytes, over the limit of N bytes",
        ),
        ("handler failed: ValueError: boom", "handler failed: ValueError: boom"),
    ],
)
def test_a_reason_pattern_masks_values_and_keeps_the_first_clause(
    reason: str, pattern: str
) -> None:
    assert dl.reason_pattern(reason) == pattern


def contract_reason(value: bytes) -> str:
    pipeline = BatchPipeline(
        contract=DataEvent,
        handler=None,  # type: ignore[arg-type]
        publisher=None,  # type: ignore[arg-type]
        service="ingestion",
        consumer_group="ingestion",
    )
    _, (rejection,) = pipeline.parse([SourceRecord(DATA_TOPIC, 0, 0, None, value)])
    return rejection.reason


def test_a_contract_error_groups_by_its_first_error_location_and_message() -> None:
    missing = contract_reason(b'{"event_id": "e-4"}')
    other_missing = contract_reason(b'{"event_id": "e-5", "dataset": "shop"}')
    assert dl.reason_pattern(missing) == "does not match DataEvent: occurred_at: Field required"
    assert dl.reason_pattern(other_missing) == dl.reason_pattern(missing)
    not_json = dl.reason_pattern(contract_reason(b"not json at all"))
    assert not_json == "does not match DataEvent: Invalid JSON: expected ident at line N column N"


def test_letters_group_by_topic_error_type_and_pattern_with_counts_times_and_samples() -> None:
    letters = [
        letter(1, "amount: -5 is below the minimum 0.0", minutes=3, event_id="e-1"),
        letter(2, "amount: -7 is below the minimum 0.0; items: 0 is below", minutes=1),
        letter(3, "amount: -1 is below the minimum 0.0", minutes=9, event_id="e-3"),
        letter(4, "amount: -1 is below the minimum 0.0", topic=OUTCOMES_TOPIC),
        letter(5, 'dataset: no spec is applied for "x"', error_type="unknown_dataset"),
        letter(6, "does not match", error_type="contract", value=b"{}"),
    ]
    groups = dl.group_letters([*letters, letters[0]])  # one delivered twice counts once
    first = groups[0]
    assert (first.source_topic, first.error_type, first.pattern, first.count) == (
        DATA_TOPIC,
        "spec",
        "amount: N is below the minimum N",
        3,
    )
    assert (first.first_seen, first.last_seen) == (
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=9),
    )
    assert first.samples == ("e-2", "e-1", "e-3")  # oldest first; e-2 from the original
    assert len(groups) == 4
    assert {(g.source_topic, g.error_type, g.count) for g in groups[1:]} == {
        (OUTCOMES_TOPIC, "spec", 1),
        (DATA_TOPIC, "unknown_dataset", 1),
        (DATA_TOPIC, "contract", 1),
    }
    contract = next(g for g in groups if g.error_type == "contract")
    assert contract.samples == (f"{DATA_TOPIC}@0:6",)  # no event id anywhere: its position
    assert json.loads(json.dumps(first.as_json()))["reason"] == first.pattern


def test_selection_filters_by_reason_topic_and_time_oldest_first() -> None:
    letters = [
        letter(1, "amount: -5 is below the minimum 0.0", minutes=5),
        letter(2, "Amount: -7 IS BELOW the minimum", minutes=1),
        letter(3, "items: 0 is below the minimum 1", minutes=9, topic=OUTCOMES_TOPIC),
    ]
    pick = dl.select_letters
    assert [x.source_offset for x in pick(letters)] == [2, 1, 3]
    assert [x.source_offset for x in pick(letters, reason_contains="amount: -")] == [2, 1]
    assert [x.source_offset for x in pick(letters, source_topic=OUTCOMES_TOPIC)] == [3]
    since = T0 + timedelta(minutes=5)
    assert [x.source_offset for x in pick(letters, since=since)] == [1, 3]
    assert pick(letters, reason_contains="below", source_topic=DATA_TOPIC, since=since) == [
        letters[0]
    ]


def test_a_replay_sends_each_original_once_and_skips_truncated_ones() -> None:
    once = letter(1, "amount: -5 is below the minimum 0.0", event_id="e-1")
    again = letter(7, "amount: -5 is below the minimum 0.0", event_id="e-1")  # replayed, rejected
    huge = b"x" * (MAX_ORIGINAL_KEPT + 1)
    cut = letter(8, "does not match", error_type="contract", value=huge)
    other = letter(9, "items: 0 is below the minimum 1", event_id="e-9")
    plan = dl.plan_replay([once, again, cut, other])
    assert plan.send == (once, other)
    assert plan.truncated == (cut,)
    assert plan.repeats == 1


def test_since_takes_a_time_or_a_duration_back_from_now() -> None:
    assert dl.parse_since("30m", T0) == T0 - timedelta(minutes=30)
    assert dl.parse_since("2026-11-01T10:00:00+01:00", T0) == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert dl.parse_since("2026-11-01", T0) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        dl.parse_since("yesterday", T0)


# --- the commands, with Kafka replaced --------------------------------------------------


class FakeKafka:
    def __init__(self, letters: list[DeadLettered]) -> None:
        self.letters = letters
        self.replayed: list[DeadLettered] = []

    async def read(self, settings: object) -> list[DeadLettered]:
        return self.letters

    async def replay(self, settings: object, letters: Sequence[DeadLettered]) -> int:
        self.replayed += letters
        return len(letters)


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeKafka:
    monkeypatch.chdir(tmp_path)  # no .driftloop/local.env
    fake = FakeKafka(
        [
            letter(1, "amount: -5 is below the minimum 0.0", event_id="e-1", minutes=1),
            letter(2, "amount: -6 is below the minimum 0.0", event_id="e-2", minutes=2),
            letter(3, 'dataset: no spec is applied for "x"', error_type="unknown_dataset"),
        ]
    )
    monkeypatch.setattr(dl, "read_dead_letters", fake.read)
    monkeypatch.setattr(dl, "replay", fake.replay)
    return fake


def driftloop(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"DRIFTLOOP_KAFKA_BOOTSTRAP": "kafka:9092"})


def test_list_prints_the_groups_as_a_table_or_json(kafka: FakeKafka) -> None:
    result = driftloop("deadletters", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["COUNT", "SOURCE", "TOPIC", "ERROR"]
    assert lines[1].split()[:3] == ["2", DATA_TOPIC, "spec"]
    assert "e-1 e-2" in lines[1]
    assert lines[1].endswith("amount: N is below the minimum N")
    assert lines[-1] == "3 dead letters in 2 groups"

    groups = json.loads(driftloop("deadletters", "list", "--json").output)
    assert [(g["count"], g["error_type"]) for g in groups] == [(2, "spec"), (1, "unknown_dataset")]
    empty = driftloop("deadletters", "list", "--source-topic", OUTCOMES_TOPIC)
    assert empty.output == f"no dead letters from {OUTCOMES_TOPIC}\n"


def test_replay_sends_the_selected_ones_and_says_how_many(kafka: FakeKafka) -> None:
    result = driftloop("deadletters", "replay", "--reason-contains", "below the minimum")
    assert result.exit_code == 0, result.output
    assert result.output == f"replayed 2 of 2 selected dead letters (2 to {DATA_TOPIC})\n"
    assert [x.source_offset for x in kafka.replayed] == [1, 2]


def test_a_dry_run_shows_what_would_be_replayed_and_sends_nothing(kafka: FakeKafka) -> None:
    result = driftloop("deadletters", "replay", "--source-topic", DATA_TOPIC, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would replay 3 of 3 selected dead letters" in result.output
    assert f"{DATA_TOPIC}@0:1" in result.output
    assert kafka.replayed == []
    as_json = json.loads(
        driftloop("deadletters", "replay", "--since", "2026-11-22T07:02:00Z", "--json").output
    )
    assert (as_json["replayed"], as_json["by_source_topic"]) == (1, {DATA_TOPIC: 1})


def test_replay_needs_a_filter_or_all_and_a_valid_since(kafka: FakeKafka) -> None:
    result = driftloop("deadletters", "replay")
    assert result.exit_code == 2
    assert "choose what to replay" in result.output
    result = driftloop("deadletters", "replay", "--since", "last week")
    assert result.exit_code == 2
    assert "--since: invalid time 'last week'" in result.output
    assert kafka.replayed == []
    assert driftloop("deadletters", "replay", "--all").exit_code == 0
    assert len(kafka.replayed) == 3


def test_an_unreachable_kafka_is_a_clear_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    async def unreachable(settings: object) -> list[DeadLettered]:
        raise OSError("connection refused")

    monkeypatch.setattr(dl, "read_dead_letters", unreachable)
    result = driftloop("deadletters", "list")
    assert result.exit_code == 1
    assert "cannot reach Kafka at kafka:9092: connection refused" in result.output
