"""``driftloop trace``: finding an event's spans, building its tree across services and links,
and what the command prints or refuses."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from driftloop_cli import tracing as tr
from driftloop_cli.main import app

pytestmark = pytest.mark.unit

_ids = count(1)
MS = 1_000_000
START_NS = 1_700_000_000_000 * MS


def span(
    name: str,
    service: str,
    trace: str,
    *,
    parent: dict[str, Any] | None = None,
    at_ms: int = 0,
    took_ms: int = 1,
    links: tuple[dict[str, Any], ...] = (),
    status: str = "UNSET",
    **attributes: str | list[str],
) -> dict[str, Any]:
    """A span record as the runtime's exporter writes it."""
    start = START_NS + at_ms * MS
    return {
        "name": name,
        "service": service,
        "trace_id": trace * 32,
        "span_id": f"{next(_ids):016x}",
        "parent_span_id": parent["span_id"] if parent else None,
        "kind": "PRODUCER",
        "start_time_ns": start,
        "end_time_ns": start + took_ms * MS,
        "status": status,
        "attributes": {k.replace("_", ".", 1): v for k, v in attributes.items()},
        "links": [{"trace_id": s["trace_id"], "span_id": s["span_id"]} for s in links],
        "events": [],
    }


def data_trace() -> list[dict[str, Any]]:
    """One data event: ingestion → feature → scorer, by parent/child."""
    validated = span(
        "data.validated publish",
        "ingestion",
        "a",
        driftloop_event_id="data.validated:e1",
        driftloop_causation_id="e1",
    )
    vector = span(
        "features publish",
        "feature",
        "a",
        parent=validated,
        at_ms=5,
        driftloop_event_id="fv:e1",
        driftloop_causation_id="data.validated:e1",
    )
    prediction = span(
        "predictions publish",
        "scorer",
        "a",
        parent=vector,
        at_ms=9,
        driftloop_event_id="pred:e1",
        driftloop_causation_id="fv:e1",
    )
    return [prediction, validated, vector]  # files hold spans in the order they ended


def published(topic: str, batch: dict[str, Any], sent: dict[str, str]) -> dict[str, Any]:
    """The publish span of a consumed ``batch`` (its child, a millisecond in) that sent the
    events of ``sent``, each with the event it descends from."""
    return span(
        f"{topic} publish",
        batch["service"],
        batch["trace_id"][0],
        parent=batch,
        at_ms=(batch["start_time_ns"] - START_NS) // MS + 1,
        driftloop_event_ids=list(sent),
        driftloop_causation_ids=list(sent.values()),
    )


def batch_traces() -> list[dict[str, Any]]:
    """Two data events, e1 and e2, as the services trace them per batch: each consumed batch a
    trace of its own linked to the publish span it read, each publish span listing the events
    it sent; the monitor observes the predictions; a later feature batch carries only e3."""
    read = span("data process", "ingestion", "a", at_ms=0)
    validated = published(
        "data.validated", read, {"data.validated:e1": "e1", "data.validated:e2": "e2"}
    )
    featured = span("data.validated process", "feature", "b", at_ms=5, links=(validated,))
    vectors = published(
        "features", featured, {"fv:e1": "data.validated:e1", "fv:e2": "data.validated:e2"}
    )
    scored = span("features process", "scorer", "c", at_ms=9, links=(vectors,))
    predictions = published("predictions", scored, {"pred:e1": "fv:e1", "pred:e2": "fv:e2"})
    observed = span("monitor.observe", "monitor", "d", at_ms=12, links=(predictions,))
    later = span("data.validated process", "feature", "e", at_ms=20, links=(validated,))
    other = published("features", later, {"fv:e3": "data.validated:e3"})
    return [validated, read, vectors, featured, predictions, scored, observed, later, other]


def test_a_batch_traced_event_reads_as_one_tree_through_the_batches_that_carried_it() -> None:
    found = tr.event_trace(spans(batch_traces()), "e1")
    (root,) = found.roots
    assert [(n.relation, n.span.service, n.span.name) for n in root.walk()] == [
        ("root", "ingestion", "data process"),
        ("child", "ingestion", "data.validated publish"),
        ("linked from", "feature", "data.validated process"),
        ("child", "feature", "features publish"),
        ("linked from", "scorer", "features process"),
        ("child", "scorer", "predictions publish"),
        ("linked from", "monitor", "monitor.observe"),  # one hop: observed the prediction
        ("linked from", "feature", "data.validated process"),  # read the same batch, one hop
        ("child", "feature", "features publish"),
    ]
    assert found.lineage == {"e1", "data.validated:e1", "fv:e1", "pred:e1"}
    assert found.services() == ["ingestion", "feature", "scorer"]
    assert not any(n.orphan for n in root.walk())


def test_a_batch_traced_event_found_midway_starts_at_the_batch_that_made_it() -> None:
    found = tr.event_trace(spans(batch_traces()), "fv:e2")
    (root,) = found.roots
    assert [(n.relation, n.span.name) for n in root.walk()][:5] == [
        ("root", "data.validated process"),
        ("links to", "data.validated publish"),  # where it came from, alone
        ("child", "features publish"),
        ("linked from", "features process"),
        ("child", "predictions publish"),
    ]
    assert found.services() == ["feature", "scorer"]


def test_the_command_names_the_events_path_in_each_batch_span(tmp_path: Path) -> None:
    write(tmp_path / "spans.jsonl", batch_traces())
    result = CliRunner().invoke(app, ["trace", "e2", "--traces", str(tmp_path / "spans.jsonl")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith("ingestion → feature → scorer")
    rows = {line.split()[-2]: line.split()[-1] for line in result.stdout.splitlines()[3:]}
    assert {"data.validated:e2", "fv:e2", "pred:e2"} <= set(rows)
    assert set(rows.values()) >= {"(+1)"}


def drift_traces(observed: dict[str, Any]) -> list[dict[str, Any]]:
    """A monitor batch that observed ``observed`` and raised alarm d1 (trace c), the trainer's
    run serving d1 and an older alarm d0 (trace b), the registry's promotion, the scorer's swap."""
    observe = span("monitor.observe", "monitor", "c", at_ms=20, links=(observed,))
    alarm = span(
        "monitor.drift_detected", "monitor", "c", parent=observe, at_ms=21, driftloop_event_id="d1"
    )
    older = span("monitor.drift_detected", "monitor", "b", at_ms=15, driftloop_event_id="d0")
    train = span(
        "trainer.train",
        "trainer",
        "c",
        parent=alarm,
        at_ms=30,
        took_ms=2_500,
        links=(older,),
        driftloop_run_id="run-2",
    )
    result = span("trainings publish", "trainer", "c", parent=train, at_ms=2_520)
    register = span("registry.register_training", "registry", "c", parent=result, at_ms=2_600)
    promoted = span(
        "models.promoted publish",
        "registry",
        "c",
        parent=result,
        at_ms=2_650,
        driftloop_event_id="p2",
    )
    swap = span(
        "swap",
        "scorer",
        "c",
        parent=promoted,
        at_ms=2_700,
        status="OK",
        driftloop_cause_event_id="p2",
    )
    return [observe, alarm, older, train, result, register, promoted, swap]


def spans(records: list[dict[str, Any]]) -> list[tr.Span]:
    return [tr.Span.from_record(r) for r in records]


def names(found: tr.EventTrace) -> list[tuple[str, str]]:
    return [(n.relation, n.span.name) for n in found.nodes()]


def test_a_data_events_trace_is_found_by_any_of_its_ids_and_ordered_by_causation() -> None:
    records = [*data_trace(), span("other publish", "ingestion", "f", driftloop_event_id="e9")]
    for event_id in ("e1", "fv:e1", "pred:e1"):
        found = tr.event_trace(spans(records), event_id)
        (root,) = found.roots
        assert [(n.span.service, n.relation) for n in root.walk()] == [
            ("ingestion", "root"),
            ("feature", "child"),
            ("scorer", "child"),
        ]
        assert not any(n.orphan for n in root.walk())


def test_a_drift_alarm_reaches_the_swap_and_shows_the_alarms_its_run_links_to() -> None:
    data = data_trace()
    found = tr.event_trace(spans(data + drift_traces(observed=data[1])), "d1")
    assert names(found) == [
        ("root", "monitor.observe"),
        ("links to", "data.validated publish"),  # the record the batch observed, alone
        ("child", "monitor.drift_detected"),
        ("child", "trainer.train"),
        ("links to", "monitor.drift_detected"),  # the older alarm the same run served
        ("child", "trainings publish"),
        ("child", "registry.register_training"),
        ("child", "models.promoted publish"),
        ("child", "swap"),
    ]
    assert found.services() == ["monitor", "trainer", "registry", "scorer"]
    observed = [n for n in found.nodes() if n.span.trace_id == "a" * 32]
    assert [(n.span.service, n.children) for n in observed] == [("ingestion", ())]


def test_a_data_event_shows_the_monitor_batch_that_observed_it_and_what_that_raised() -> None:
    data = data_trace()
    found = tr.event_trace(spans(data + drift_traces(observed=data[1])), "e1")
    (root,) = found.roots
    linked = [n for n in root.walk() if n.relation == "linked from"]
    assert [n.span.name for n in linked] == ["monitor.observe"]
    below = [n.span.name for n in linked[0].walk()]
    assert below[:3] == ["monitor.observe", "monitor.drift_detected", "trainer.train"]
    # one hop: the trainer run's own link (the older alarm) is not followed from here
    assert all(n.relation != "links to" for n in linked[0].walk())


def test_a_span_whose_parent_was_not_exported_is_a_root_marked_orphan() -> None:
    validated, vector, prediction = data_trace()[1], data_trace()[2], data_trace()[0]
    found = tr.event_trace(spans([validated, prediction]), "e1")  # the feature span is missing
    assert [(n.span.service, n.orphan) for n in found.roots] == [
        ("ingestion", False),
        ("scorer", True),
    ]
    assert vector["service"] == "feature"


def test_an_unknown_event_is_an_error_naming_it() -> None:
    with pytest.raises(tr.EventNotTracedError, match="no span names event nope in 3 spans"):
        tr.event_trace(spans(data_trace()), "nope")


def write(path: Path, records: list[dict[str, Any]], tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def test_the_command_prints_the_tree_with_service_duration_and_status(tmp_path: Path) -> None:
    data = data_trace()
    write(tmp_path / "traces" / "ingestion.jsonl", [data[1]])
    write(tmp_path / "traces" / "feature.jsonl", [data[2]])
    # a scorer still writing its last line: the complete spans are read, the rest reported
    write(tmp_path / "traces" / "scorer.jsonl", [data[0], *drift_traces(data[1])], '{"name": "sw')
    result = CliRunner().invoke(app, ["trace", "d1", "--traces", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "event d1: 9 spans in 3 trace(s), monitor → trainer → registry → scorer"
    assert lines[2].split() == [
        "SPAN",
        "SERVICE",
        "START",
        "DURATION",
        "STATUS",
        "EVENT",
        "/",
        "RUN",
    ]
    rows = [line.split() for line in lines[3:]]
    assert rows[0] == ["monitor.observe", "monitor", "+0.020", "s", "1.0", "ms", "unset", "-"]
    assert rows[1][:4] == ["├─", "↪", "data.validated", "publish"]  # observed, by link
    assert rows[3][1:] == ["trainer.train", "trainer", "+0.030", "s", "2.50", "s", "unset", "run-2"]
    assert rows[4][:4] == ["├─", "↪", "monitor.drift_detected", "monitor"]  # the older alarm
    assert rows[-1] == ["└─", "swap", "scorer", "+2.700", "s", "1.0", "ms", "ok", "-"]
    assert lines[-1].index("└─ swap") > lines[-2].index("└─ models.promoted")  # nested below
    assert "1 lines of" in result.stderr


def test_json_output_and_the_traces_directory_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "demo" / "traces" / "all.jsonl", data_trace())
    monkeypatch.setenv("DRIFTLOOP_TRACES_DIR", str(tmp_path / "demo"))
    result = CliRunner().invoke(app, ["trace", "e1", "--json"])
    assert result.exit_code == 0, result.output
    tree = json.loads(result.stdout)
    (root,) = tree["roots"]
    assert root["service"] == "ingestion"
    assert root["children"][0]["children"][0]["attributes"]["driftloop.event_id"] == "pred:e1"


def test_missing_span_files_and_unknown_events_exit_1_with_the_reason(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["trace", "e1"])  # no .driftloop/traces here
    assert missing.exit_code == 1
    assert "no span files at .driftloop/traces" in missing.stderr
    write(tmp_path / "spans.jsonl", data_trace())
    unknown = runner.invoke(app, ["trace", "e404", "--traces", str(tmp_path / "spans.jsonl")])
    assert unknown.exit_code == 1
    assert "no span names event e404" in unknown.stderr
