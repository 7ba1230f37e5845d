"""The demo's moving parts without a broker: options, the upstream's late outcomes, what the
downstream consumer keeps, and the command's refusals."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from driftloop_cli.demo import DemoError, DemoOptions, DemoOptionsError
from driftloop_cli.demo.downstream import Downstream
from driftloop_cli.demo.stack import DemoStack
from driftloop_cli.demo.stream import Upstream
from driftloop_cli.main import app
from driftloop_cli.simulation import CardTransactions
from driftloop_contracts import (
    DATA_TOPIC,
    DRIFT_TOPIC,
    OUTCOMES_TOPIC,
    PREDICTIONS_TOPIC,
    DataEvent,
    DriftDetected,
    OutcomeEvent,
    PredictionMade,
)

pytestmark = pytest.mark.unit

SPEC = Path(__file__).parents[3] / "specs" / "fraud.yaml"


def test_the_drift_point_defaults_to_half_the_stream_and_no_drift_means_none() -> None:
    assert DemoOptions(events=1_000, spec=SPEC).change_at == 500
    assert DemoOptions(events=1_000, drift_at=100, spec=SPEC).change_at == 100
    assert DemoOptions(events=1_000, no_drift=True, spec=SPEC).change_at is None


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"events": 0}, "--events must be at least 1"),
        ({"drift_at": 5_000}, "--drift-at must be between 1 and --events - 1 (999)"),
        ({"drift_at": 10, "no_drift": True}, "--drift-at and --no-drift exclude each other"),
        ({"rate": 0}, "--rate must be positive"),
        ({"label_delay": -1}, "--label-delay must be >= 0"),
        ({"spec": Path("nowhere.yaml")}, "spec file nowhere.yaml not found"),
    ],
)
def test_wrong_options_are_refused_with_the_reason(changes: dict[str, Any], says: str) -> None:
    options = DemoOptions(**{"events": 1_000, "spec": SPEC, **changes})
    with pytest.raises(
        DemoOptionsError, match=r".*" + says.replace("(", r"\(").replace(")", r"\)")
    ):
        options.validate()


def test_the_command_refuses_wrong_options_before_starting_anything(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    outcome = CliRunner().invoke(
        app,
        ["demo", "--events", "100", "--drift-at", "100", "--spec", str(SPEC), "--home", str(home)],
    )
    assert outcome.exit_code == 2
    assert "--drift-at must be between 1 and --events - 1 (99)" in outcome.output
    assert not home.exists()


@dataclass
class RecordingProducer:
    sent: list[tuple[str, bytes]]

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        self.sent.append((topic, value))
        return done


async def test_each_outcome_follows_its_transaction_by_the_label_delay() -> None:
    producer = RecordingProducer([])
    upstream = Upstream(CardTransactions(seed=2), 3, producer)
    await upstream.publish_history(4)
    await upstream.publish_live(10)
    history, live = producer.sent[:4], producer.sent[4:]
    assert all(DataEvent.model_validate_json(v).label is not None for _, v in history)
    topics = [topic for topic, _ in live]
    # the 4th live transaction brings the 1st one's outcome, and so on
    assert topics[:5] == [DATA_TOPIC, DATA_TOPIC, DATA_TOPIC, DATA_TOPIC, OUTCOMES_TOPIC]
    outcomes = [OutcomeEvent.model_validate_json(v) for t, v in live if t == OUTCOMES_TOPIC]
    data = [DataEvent.model_validate_json(v) for t, v in live if t == DATA_TOPIC]
    assert [o.subject_event_id for o in outcomes] == [d.event_id for d in data[:7]]
    assert outcomes[0].occurred_at == data[3].occurred_at  # reported when the 4th happened
    await upstream.publish_remaining_outcomes()
    rest = [
        OutcomeEvent.model_validate_json(v) for t, v in producer.sent[len(history) + len(live) :]
    ]
    assert [o.subject_event_id for o in rest] == [d.event_id for d in data[7:]]
    assert [e.position for e in upstream.stream] == list(range(10))
    assert upstream.positions[data[9].event_id] == 9


@dataclass
class Record:
    topic: str
    value: bytes
    timestamp: int = 1_700_000_000_000


def prediction(
    subject: str, *, shadow: bool = False, dataset: str = "fraud", version: int = 1
) -> Record:
    made = PredictionMade.example().model_copy(
        update={
            "subject_event_id": subject,
            "shadow": shadow,
            "dataset": dataset,
            "model_version": version,
            "scores": {"false": 0.2, "true": 0.8},
        }
    )
    return Record(PREDICTIONS_TOPIC, made.model_dump_json().encode())


def test_downstream_keeps_the_first_champion_prediction_of_live_transactions_only() -> None:
    live = {"txn-1": 0, "txn-2": 1}
    downstream = Downstream(None, "fraud", live, lambda: 7)  # type: ignore[arg-type]
    for record in (
        prediction("txn-1", shadow=True, version=3),  # a shadow's: not for acting on
        prediction("txn-1", dataset="other"),
        prediction("history-9"),  # not a live transaction
        prediction("txn-1", version=1),
        prediction("txn-1", version=2),  # a redelivery after the first is ignored
        Record(PREDICTIONS_TOPIC, b"{not json"),
    ):
        downstream.take(record, now=5.0)
    assert list(downstream.predictions) == ["txn-1"]
    seen = downstream.predictions["txn-1"]
    assert (seen.version, seen.score, seen.received_at) == (1, 0.8, 5.0)


def test_downstream_records_loop_events_with_their_timestamp_and_stream_position() -> None:
    downstream = Downstream(None, "fraud", {}, lambda: 1_234)  # type: ignore[arg-type]
    alarm = DriftDetected.example().model_copy(update={"dataset": "fraud"})
    elsewhere = DriftDetected.example().model_copy(update={"dataset": "payments"})
    for event in (alarm, elsewhere):
        downstream.take(Record(DRIFT_TOPIC, event.model_dump_json().encode()), now=9.0)
    [seen] = downstream.loop_events
    assert (seen.kind, seen.event, seen.position) == ("drift", alarm, 1_234)
    assert (seen.timestamp, seen.seen_at) == (1_700_000_000.0, 9.0)


def test_a_home_whose_stack_still_runs_is_refused_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    (home / "mongo").mkdir(parents=True)
    running = {"name": "broker", "pid": os.getpid(), "log": str(home / "logs" / "broker.log")}
    (home / "local.json").write_text(json.dumps([running]))
    with pytest.raises(DemoError, match=r"a demo stack is still running in .*driftloop local down"):
        DemoStack(home).start()
    assert (home / "mongo").is_dir()  # not cleaned under a running store


def test_a_dead_process_is_reported_with_the_end_of_its_log(tmp_path: Path) -> None:
    log = tmp_path / "scorer.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    gone = {"name": "scorer", "pid": 2**22 + 1, "log": str(log)}  # above Linux's pid_max
    (tmp_path / "local.json").write_text(json.dumps([gone]))
    with pytest.raises(DemoError, match=r"scorer .* died") as raised:
        DemoStack(tmp_path).check_alive()
    assert "line 99" in str(raised.value)
    assert "line 69" not in str(raised.value)  # only the tail
