"""DatasetMonitor end to end on synthetic events: join, drift of each kind, alarms, reports,
deterministic ids and the checkpoint round trip."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from driftloop_contracts import (
    DriftDetected,
    FeaturesComputed,
    OutcomeValidated,
    PerformanceReported,
    PredictionMade,
)
from driftloop_modeling import SCORE_REFERENCE, feature_references, numeric_reference
from driftloop_monitor.monitoring import DatasetMonitor, MonitorPolicy, Seen, ServingModel
from driftloop_spec import DatasetSpec, load_spec

pytestmark = pytest.mark.unit

SPEC = load_spec(Path(__file__).parents[3] / "specs" / "fraud.yaml")
COLUMNS = SPEC.feature_columns()
START = datetime(2025, 1, 1, tzinfo=UTC)
POLICY = MonitorPolicy(live_window=1000, test_every=250, report_every_s=3600, join_ttl_s=86400)


@dataclass
class Stream:
    """A synthetic fraud stream: one event per second, a drift switch, seeded."""

    seed: int = 0
    n: int = 0

    def rows(
        self,
        count: int,
        *,
        amount_shift: float = 0.0,
        error: float = 0.005,
        score_shift: float = 0.0,
    ) -> list[tuple[int, np.ndarray, float, bool, bool]]:
        rng = np.random.default_rng(self.seed + self.n)
        out = []
        for _ in range(count):
            i = self.n
            self.n += 1
            values = np.zeros(len(COLUMNS))
            values[COLUMNS.index("log_amount")] = rng.normal(3.0 + amount_shift, 1.0)
            values[COLUMNS.index(f"merchant:{rng.choice(['grocery', 'travel', 'fuel'])}")] = 1
            values[COLUMNS.index("foreign_card")] = float(rng.random() < 0.1)
            fraud = bool(rng.random() < 0.05)
            wrong = bool(rng.random() < error)
            predicted = fraud != wrong
            # a confident model: the score is near the class it predicts
            confidence = rng.beta(1, 20)
            score = float(
                np.clip((1 - confidence if predicted else confidence) + score_shift, 0, 1)
            )
            out.append((i, values, score, fraud, predicted))
        return out


def reference() -> dict[str, object]:
    rows = Stream(seed=99).rows(5000)
    refs: dict[str, object] = dict(feature_references(np.array([r[1] for r in rows]), COLUMNS))
    refs[SCORE_REFERENCE] = numeric_reference([r[2] for r in rows])
    return refs


REFERENCE = reference()


def at(i: int) -> datetime:
    return START + timedelta(seconds=i)


def vector(i: int, values: np.ndarray) -> Seen[FeaturesComputed]:
    base = FeaturesComputed.example()
    event = base.model_copy(
        update={
            "event_id": f"f-{i}",
            "occurred_at": at(i),
            "dataset": "fraud",
            "subject_event_id": f"d-{i}",
            "feature_names": list(COLUMNS),
            "values": values.tolist(),
        }
    )
    return Seen(event, 0, i)


def prediction(i: int, score: float, predicted: bool, version: int = 1) -> Seen[PredictionMade]:
    event = PredictionMade.example().model_copy(
        update={
            "event_id": f"p-{version}-{i}",
            "occurred_at": at(i),
            "dataset": "fraud",
            "subject_event_id": f"d-{i}",
            "model_version": version,
            "prediction": predicted,
            "scores": {"true": score, "false": 1 - score},
            "shadow": version != 1,
        }
    )
    return Seen(event, 0, i)


def outcome(i: int, label: bool, delay: int = 60) -> Seen[OutcomeValidated]:
    event = OutcomeValidated.example().model_copy(
        update={
            "event_id": f"o-{i}",
            "occurred_at": at(i + delay),
            "dataset": "fraud",
            "subject_event_id": f"d-{i}",
            "label": label,
        }
    )
    return Seen(event, 0, i)


def monitor(spec: DatasetSpec = SPEC, policy: MonitorPolicy = POLICY) -> DatasetMonitor:
    m = DatasetMonitor(spec, policy)
    m.serve(ServingModel(1, REFERENCE), None)  # type: ignore[arg-type]
    return m


def feed(m: DatasetMonitor, rows: list[Any], batch: int = 500, labels: bool = True) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        m.observe_vectors([vector(i, v) for i, v, *_ in chunk])
        m.observe_predictions([prediction(i, s, p) for i, _, s, _, p in chunk])
        if labels:
            m.observe_outcomes([outcome(i, y) for i, _, _, y, _ in chunk])
        out.extend(m.drain())
    return out


def drifts(events: list[Any], kind: str | None = None) -> list[DriftDetected]:
    return [e for e in events if isinstance(e, DriftDetected) and kind in (None, e.kind)]


def test_an_unchanged_stream_joins_every_label_and_raises_no_alarm() -> None:
    m = monitor()
    events = feed(m, Stream().rows(6000))
    assert drifts(events) == []
    counters = m.counters()
    assert counters["joined"] == 6000
    assert counters.get("late_labels", 0) == counters.get("orphan_labels", 0) == 0
    assert m.status()["last_statistic"]["data/log_amount/psi"] < 0.05


def test_a_shifted_feature_fires_data_drift_on_it_alone() -> None:
    m = monitor()
    stream = Stream()
    feed(m, stream.rows(2000))
    events = feed(m, stream.rows(2000, amount_shift=1.5))
    data = drifts(events, "data")
    assert [e.signal for e in data] == ["log_amount"]
    assert data[0].statistic >= 0.2
    assert data[0].detector == "psi"
    assert data[0].evidence["post_change_labels"] >= SPEC.drift.min_post_change_labels


def test_shifted_scores_fire_prediction_drift() -> None:
    m = monitor()
    stream = Stream()
    feed(m, stream.rows(2000))
    events = feed(m, stream.rows(2000, score_shift=0.3))
    assert [e.signal for e in drifts(events, "prediction")] == ["score"]


def test_performance_drift_places_the_change_and_waits_for_post_change_labels() -> None:
    m = monitor()
    stream = Stream()
    feed(m, stream.rows(6000))
    change = stream.n
    rows = stream.rows(6000, error=0.05)
    events = feed(m, rows[:300])  # detected by now or soon, but only ~300 post-change labels
    assert drifts(events, "performance") == []
    events += feed(m, rows[300:])
    found = drifts(events, "performance")
    assert len(found) == 1  # one alarm per cooldown: no storm
    alarm = found[0]
    assert alarm.change_point is not None
    assert abs(alarm.change_point.offset - change) < 300  # type: ignore[operator]
    assert alarm.evidence["post_change_labels"] >= 500
    assert alarm.occurred_at >= at(change)


def test_a_model_that_gets_better_raises_no_alarm() -> None:
    m = monitor()
    stream = Stream()
    feed(m, stream.rows(4000, error=0.08))
    events = feed(m, stream.rows(6000, error=0.005))  # fewer errors: ADWIN fires all the same
    assert drifts(events, "performance") == []
    assert m.counters()["improvements"] >= 1


def test_a_new_champion_resets_the_detectors() -> None:
    m = monitor()
    stream = Stream()
    feed(m, stream.rows(2000))
    feed(m, stream.rows(1000, amount_shift=1.5))
    assert m.status()["pending_alarms"] or m.counters().get("alarms")
    m.serve(ServingModel(2, REFERENCE), None)  # type: ignore[arg-type]
    status = m.status()
    assert status["champion"] == 2
    assert status["pending_alarms"] == {}
    assert status["samples"]["vectors"] == 0


def test_reports_come_at_the_interval_with_coverage_and_the_shadow() -> None:
    m = monitor()
    m.serve(ServingModel(1, REFERENCE), ServingModel(3, REFERENCE))  # type: ignore[arg-type]
    rows = Stream().rows(8000)
    events = []
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        m.observe_predictions([prediction(i, s, p) for i, _, s, _, p in chunk])
        m.observe_predictions([prediction(i, s, p, version=3) for i, _, s, _, p in chunk])
        m.observe_outcomes([outcome(i, y) for i, _, _, y, _ in chunk if i % 2 == 0])
        events.extend(m.drain())
    reports = [e for e in events if isinstance(e, PerformanceReported)]
    assert len(reports) == 2  # 8,000 s of events: hours 1 and 2 closed
    first = reports[0]
    assert 0.4 < first.label_coverage <= 0.55
    assert "roc_auc" in first.metrics
    assert "recall_at_fpr" in first.metrics
    assert first.shadow is not None
    assert first.shadow.agreement == 1.0
    assert first.event_id == f"performance.reported:fraud:1:{int(START.timestamp()) + 3600}"


def test_the_join_counts_late_orphan_and_duplicate_labels() -> None:
    m = monitor(policy=MonitorPolicy(join_ttl_s=100))
    m.observe_outcomes([outcome(1, True, delay=0)])  # label first
    m.observe_predictions([prediction(1, 0.9, True)])
    m.observe_predictions([prediction(2, 0.1, False)])
    m.observe_predictions([prediction(1, 0.9, True)])  # redelivered
    m.observe_outcomes([outcome(1, True, delay=0)])  # redelivered
    m.observe_outcomes([outcome(3, True, delay=0)])  # never predicted
    m.observe_predictions([prediction(500, 0.1, False)])  # moves the watermark past the ttl
    m.observe_outcomes([outcome(2, False, delay=450)])  # its prediction expired
    counters = m.counters()
    assert counters["joined"] == 1
    assert counters["unlabelled_predictions"] == 1
    assert counters["orphan_labels"] == 1
    assert counters["late_labels"] == 1
    assert counters["duplicate_predictions"] == counters["duplicate_labels"] == 1


def test_the_join_is_bounded() -> None:
    m = monitor(policy=MonitorPolicy(max_pending=100))
    m.observe_predictions([prediction(i, 0.1, False) for i in range(1000)])
    assert m.counters()["pending_predictions"] == 100
    assert m.counters()["evicted"] == 900


def _run(split: int | None) -> tuple[list[str], list[dict[str, Any]]]:
    stream = Stream(seed=5)
    rows = stream.rows(4000) + stream.rows(8000, amount_shift=1.0, error=0.05)
    m = monitor()
    events = feed(m, rows[: split or len(rows)])
    if split is not None:
        document = json.loads(json.dumps(m.to_checkpoint(), default=_bytes))
        m = DatasetMonitor.from_checkpoint(SPEC, POLICY, _unbytes(document))  # type: ignore[arg-type]
        events += feed(m, rows[split:])
    return [e.event_id for e in events], [e.model_dump(mode="json") for e in events]


def _bytes(value: object) -> object:
    assert isinstance(value, bytes)
    return {"$bytes": value.hex()}


def _unbytes(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: _unbytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unbytes(v) for v in value]
    return value


def test_ids_are_deterministic_and_a_restored_checkpoint_continues_the_same() -> None:
    ids, whole = _run(None)
    assert {"data", "performance"} <= {e["kind"] for e in whole if "kind" in e}
    assert _run(None) == (ids, whole)
    assert _run(6000) == (ids, whole)


def test_the_checkpoint_stays_bounded_as_events_flow() -> None:
    m = monitor(policy=MonitorPolicy(live_window=500, max_pending=1000, rolling_window=500))
    stream = Stream()
    sizes = []
    for _ in range(4):
        feed(m, stream.rows(5000), labels=False)
        sizes.append(len(json.dumps(m.to_checkpoint(), default=_bytes)))
    assert sizes[-1] <= sizes[0] * 1.1


def _interleaved(seed: int | None) -> list[Any]:
    """A drifting stream on three partitions per topic, fed in one order (``None``: each topic
    whole, in turn) or in random pieces of random partitions."""
    stream = Stream(seed=7)
    rows = stream.rows(3000) + stream.rows(3000, error=0.05)
    pieces: dict[tuple[str, int], list[Any]] = {}
    for i, values, score, label, predicted in rows:
        part = i % 3
        pieces.setdefault(("vectors", part), []).append(_on(vector(i, values), part))
        pieces.setdefault(("predictions", part), []).append(
            _on(prediction(i, score, predicted), part)
        )
        pieces.setdefault(("outcomes", part), []).append(_on(outcome(i, label), part))
    m = monitor()
    out: list[Any] = []
    rng = np.random.default_rng(seed)
    while pieces:
        keys = sorted(pieces)
        key = keys[0] if seed is None else keys[int(rng.integers(len(keys)))]
        size = len(pieces[key]) if seed is None else int(rng.integers(1, 400))
        batch, pieces[key] = pieces[key][:size], pieces[key][size:]
        if not pieces[key]:
            del pieces[key]
        getattr(m, f"observe_{key[0]}")(batch)
        out.extend(m.drain())
    return [e.model_dump(mode="json", exclude={"evidence"}) for e in out]


def _on(seen: Seen[Any], partition: int) -> Seen[Any]:
    return Seen(seen.event, partition, seen.offset // 3)


def test_performance_alarms_and_reports_do_not_depend_on_how_the_topics_interleave() -> None:
    whole = _interleaved(None)
    assert [e["kind"] for e in whole if "kind" in e] == ["performance"]
    assert sum("metrics" in e for e in whole) >= 1
    for seed in (1, 2, 3):
        assert _interleaved(seed) == whole


def test_a_reference_known_late_starts_the_data_watches_and_keeps_the_rest() -> None:
    m = DatasetMonitor(SPEC, POLICY)
    m.serve(ServingModel(1, {}), None)
    stream = Stream()
    feed(m, stream.rows(600))
    before = m.status()
    labelled = before["samples"]["labelled"]
    assert labelled + before["counters"]["queued_labels"] == 600  # the last wait for the horizon
    assert "data/log_amount/psi" not in before["last_statistic"]
    m.serve(ServingModel(1, REFERENCE), None)  # type: ignore[arg-type]
    feed(m, stream.rows(600))
    after = m.status()
    assert after["samples"]["labelled"] == labelled + 600  # the detectors went on
    assert after["rolling"]["size"] == 1000
    assert after["counters"].get("champion_resets") == 1
    assert "data/log_amount/psi" in after["last_statistic"]


def test_scores_not_keyed_by_the_specs_classes_are_counted_not_read_as_zero() -> None:
    m = monitor()
    seen = prediction(1, 0.9, True)
    wrong = seen.event.model_copy(update={"scores": {"True": 0.9, "False": 0.1}})
    m.observe_predictions([Seen(wrong, 0, 1)])
    assert m.counters()["predictions_without_class_scores"] == 1
    assert m.status()["samples"]["scores"] == 0
