"""The monitor's facade: one ``DatasetMonitor`` per dataset, fed batches of consumed events.

Pure domain: no I/O, no asyncio. The service reads the topics, hands each batch to the
dataset's monitor, publishes what ``drain()`` returns and checkpoints ``to_checkpoint()``.
The clock is event time (``occurred_at``), so a replay of the same events yields the same
alarms and reports, with the same event ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from driftloop_contracts import (
    DriftDetected,
    FeaturesComputed,
    NumericReference,
    OutcomeValidated,
    PerformanceReported,
    PredictionMade,
)
from driftloop_contracts.monitoring import ChangePoint, ShadowComparison, TimeWindow
from driftloop_modeling import Detection, class_key
from driftloop_monitor.alarms import Alarm
from driftloop_monitor.join import Joined, LabelJoin, Pending
from driftloop_monitor.ordering import Horizon, JoinQueue
from driftloop_monitor.reports import ZERO_ONE_DETECTORS, Rolling, error_of
from driftloop_monitor.served import Champion
from driftloop_monitor.windows import LiveWindow, Watch
from driftloop_spec import DatasetSpec

__all__ = ["DatasetMonitor", "MonitorPolicy", "Seen", "ServingModel"]

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Seen(Generic[E]):
    """A consumed event and where it was read (partition and offset of its topic)."""

    event: E
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class ServingModel:
    """A model version being served, with its training reference ({} when unknown)."""

    version: int
    reference: Mapping[str, NumericReference]


@dataclass(frozen=True, slots=True)
class MonitorPolicy:
    """The monitor's own bounds (service settings), not in the spec."""

    live_window: int = 2000
    """Most recent values per watched signal tested against the reference."""
    test_every: int = 250
    """New values between two tests of a data/prediction detector."""
    rolling_window: int = 1000
    """Labelled champion predictions behind the rolling metrics."""
    report_every_s: int = 3600
    """Event time between two performance reports."""
    join_ttl_s: int = 7 * 86400
    """Event time a prediction waits for its label (and an early label for its prediction)."""
    max_pending: int = 100_000
    """Predictions and early labels held for the join, at most."""
    reorder_s: int = 86_400
    """Event time a partition may lag the newest of its topic and still hold joined labels back
    (see ``ordering``); a longer lag lets them go, in the order they were read."""
    max_fpr: float = 0.01
    """False-positive rate ``recall_at_fpr`` is read at."""
    producer: str = "monitor"
    """``producer`` of the events the monitor publishes."""


class DatasetMonitor:
    """Drift and performance of one dataset's champion (and shadow), from its live traffic."""

    def __init__(self, spec: DatasetSpec, policy: MonitorPolicy) -> None:
        self._spec = spec
        self._policy = policy
        self._join = LabelJoin(policy.join_ttl_s, policy.max_pending)
        self._champion: Champion | None = None
        self._shadow: tuple[int, Rolling] | None = None
        self._agreement: list[int] = [0, 0]  # agreed, compared
        self._watermark = float("-inf")
        self._next_report: float | None = None
        self._interval = _new_interval()
        self._made: dict[float, int] = {}  # champion predictions by report interval (its start)
        self._horizon = Horizon(policy.reorder_s, policy.join_ttl_s)
        self._queue = JoinQueue(policy.max_pending)
        self._outbox: list[DriftDetected | PerformanceReported] = []
        self._counts: dict[str, int] = {"alarms": 0, "reports": 0, "improvements": 0}
        classes = spec.label.classes or ()
        self._class_index = {class_key(c): i for i, c in enumerate(classes)}

    @property
    def spec(self) -> DatasetSpec:
        """The dataset spec the detectors follow."""
        return self._spec

    def apply_spec(self, spec: DatasetSpec) -> None:
        """Follow a new spec version: rebuild the champion's detectors (windows restart; the
        join, the rolling metrics and the counters are kept)."""
        self._spec = spec
        if self._champion is not None:
            rolling = self._champion.rolling
            self._champion = self._new_champion(self._champion.version, self._champion.reference)
            self._champion.rolling = rolling

    def serve(self, champion: ServingModel | None, shadow: ServingModel | None) -> None:
        """Say which versions serve; a new champion resets its windows, detectors, cooldowns,
        pending alarms and rolling metrics; a new shadow resets the shadow comparison."""
        current = self._champion.version if self._champion else None
        if champion is None:
            self._champion = None
        elif champion.version != current:
            self._champion = self._new_champion(champion.version, champion.reference)
            self._count("champion_resets")
            self._next_report, self._interval, self._made = None, _new_interval(), {}
        elif champion.reference and not self._champion_reference_known():
            # the same version, its reference read since: watches and windows start, the rest
            # (detectors, alarms, rolling metrics) goes on
            assert self._champion is not None
            self._champion.take_reference(self._spec, champion.reference)
        shadow_now = self._shadow[0] if self._shadow else None
        if shadow is None:
            self._shadow = None
        elif shadow.version != shadow_now:
            self._shadow = (shadow.version, Rolling(self._policy.rolling_window))
            self._agreement = [0, 0]
        self._queue.keep({v.version for v in (champion, shadow) if v is not None})

    def observe_vectors(self, vectors: Sequence[Seen[FeaturesComputed]]) -> None:
        """Feed a batch of feature vectors to the data drift detectors."""
        champion = self._champion
        if not vectors:
            return
        for seen in vectors:
            self._horizon.saw("vectors", seen.partition, _ts(seen.event))
        self._advance(max(_ts(v.event) for v in vectors))
        if champion is None or not champion.watches:
            return
        names = vectors[0].event.feature_names
        if any(v.event.feature_names != names for v in vectors) or not set(champion.columns) <= set(
            names
        ):
            self._count("vectors_not_matching_columns", len(vectors))
            return
        index = [names.index(column) for column in champion.columns]
        values = np.asarray([v.event.values for v in vectors], dtype=np.float64)[:, index]
        self._feed(champion.window, champion.watches, values, _where(vectors))
        self._settle()

    def observe_predictions(self, predictions: Sequence[Seen[PredictionMade]]) -> None:
        """Feed a batch of predictions: prediction drift, and the join's waiting side."""
        if not predictions:
            return
        champion = self._champion
        shadow = self._shadow[0] if self._shadow else None
        mine: list[Seen[PredictionMade]] = []
        newest = float("-inf")
        for seen in predictions:
            event, at = seen.event, _ts(seen.event)
            newest = max(newest, at)
            self._horizon.saw("predictions", seen.partition, at)
            if champion is None or event.model_version not in (champion.version, shadow):
                self._count("predictions_of_other_versions")
                continue
            if not self._scores_match(event):
                self._count("predictions_without_class_scores")
                continue
            if event.model_version == champion.version:
                mine.append(seen)
                self._made_at(at)
            pending = Pending(
                at,
                event.model_version,
                event.prediction,
                self._scores(event),
                seen.partition,
                seen.offset,
            )
            joined = self._join.add_prediction(event.subject_event_id, pending)
            if joined is not None:
                self._joined(joined)
        if champion is not None and mine and champion.score_watches:
            score = np.asarray([[self._score(s.event)] for s in mine], dtype=np.float64)
            self._feed(champion.scores, champion.score_watches, score, _where(mine))
        self._advance(newest)
        self._settle()

    def observe_outcomes(self, outcomes: Sequence[Seen[OutcomeValidated]]) -> None:
        """Feed a batch of validated outcomes: joined to predictions, errors to the detectors."""
        newest = float("-inf")
        for seen in outcomes:
            event, at = seen.event, _ts(seen.event)
            newest = max(newest, at)
            self._horizon.saw("outcomes", seen.partition, at)
            joined = self._join.add_label(event.subject_event_id, at, event.label)
            if joined is not None:
                self._joined(joined)
        if outcomes:
            self._advance(newest)
            self._settle()

    def drain(self) -> list[DriftDetected | PerformanceReported]:
        """Return (and forget) the events ready to publish, with deterministic event ids."""
        if self._champion is not None:
            ready = self._champion.alarms.ready()
            self._outbox.extend(self._drift_event(a) for a in ready)
            self._count("alarms", len(ready))
        out, self._outbox = self._outbox, []
        return out

    def counters(self) -> dict[str, int]:
        """Return the counters: joined, late_labels, orphan_labels, unlabelled_predictions,
        alarms, reports, improvements (performance changes for the better, not alarmed), ..."""
        queue = {"queued_labels": len(self._queue), "released_early": self._queue.early}
        return {**self._counts, **self._join.counts, **self._join.sizes(), **queue}

    def status(self) -> dict[str, Any]:
        """Return a JSON-able view: champion/shadow versions, per detector last statistic,
        samples, cooldown-until, pending alarms, the rolling metrics and their size."""
        champion = self._champion
        view: dict[str, Any] = {
            "dataset": self._spec.name,
            "champion": champion.version if champion else None,
            "shadow": self._shadow[0] if self._shadow else None,
            "watermark": _iso(self._watermark) if np.isfinite(self._watermark) else None,
            "horizon": _iso(self._horizon.at) if np.isfinite(self._horizon.at) else None,
            "counters": self.counters(),
        }
        if champion is not None:
            view |= {
                "last_statistic": dict(champion.last),
                "samples": {
                    "vectors": champion.window.added,
                    "scores": champion.scores.added,
                    "labelled": champion.detectors[0].fed if champion.detectors else 0,
                },
                "cooldown_until": {k: _iso(t) for k, t in champion.alarms.cooldown_until.items()},
                "pending_alarms": {
                    k: {"post_change_labels": a.post_change_labels, "change_at": _iso(a.change_at)}
                    for k, a in champion.alarms.pending.items()
                },
                "skipped": list(champion.skipped),
                "rolling": {
                    "size": len(champion.rolling.rows),
                    "metrics": champion.rolling.metrics(self._spec, self._policy.max_fpr),
                },
            }
        return view

    def to_checkpoint(self) -> dict[str, Any]:
        """Return the whole state as a BSON-able document, bounded in size (see the README)."""
        return {
            "format": 1,
            "champion": self._champion.to_state() if self._champion else None,
            "shadow": [self._shadow[0], self._shadow[1].to_state()] if self._shadow else None,
            "agreement": list(self._agreement),
            "join": self._join.to_state(),
            "watermark": self._watermark if np.isfinite(self._watermark) else None,
            "next_report": self._next_report,
            "interval": {
                k: float(v) if k in ("first", "last") else v for k, v in self._interval.items()
            },
            "made": [[at, n] for at, n in sorted(self._made.items())],
            "horizon": self._horizon.to_state(),
            "queue": self._queue.to_state(),
            "outbox": [e.model_dump(mode="json") for e in self._outbox],
            "counts": dict(self._counts),
        }

    @classmethod
    def from_checkpoint(
        cls, spec: DatasetSpec, policy: MonitorPolicy, document: Mapping[str, Any]
    ) -> DatasetMonitor:
        """Rebuild a monitor from ``to_checkpoint()``'s document."""
        monitor = cls(spec, policy)
        state = document["champion"]
        if state is not None:
            monitor._champion = Champion.from_state(
                spec, policy.live_window, policy.rolling_window, state
            )
        if document["shadow"] is not None:
            version, rows = document["shadow"]
            monitor._shadow = (version, Rolling.from_state(policy.rolling_window, rows))
        monitor._agreement = list(document["agreement"])
        monitor._join = LabelJoin.from_state(
            policy.join_ttl_s, policy.max_pending, document["join"]
        )
        watermark = document["watermark"]
        monitor._watermark = float("-inf") if watermark is None else watermark
        monitor._next_report = document["next_report"]
        monitor._interval = dict(document["interval"])
        monitor._made = {float(at): int(n) for at, n in document["made"]}
        monitor._horizon = Horizon.from_state(
            policy.reorder_s, policy.join_ttl_s, document["horizon"]
        )
        monitor._queue = JoinQueue.from_state(policy.max_pending, document["queue"])
        monitor._outbox = [_event(e) for e in document["outbox"]]
        monitor._counts = dict(document["counts"])
        return monitor

    # -- internals ---------------------------------------------------------------------------

    def _new_champion(self, version: int, reference: Mapping[str, NumericReference]) -> Champion:
        policy = self._policy
        return Champion(self._spec, version, reference, policy.live_window, policy.rolling_window)

    def _count(self, name: str, n: int = 1) -> None:
        self._counts[name] = self._counts.get(name, 0) + n

    def _advance(self, at: float) -> None:
        if at > self._watermark:
            self._watermark = at
            self._join.expire(at)

    def _scores_match(self, event: PredictionMade) -> bool:
        """A classifier's scores are keyed by every class of the spec (``class_key``)."""
        return event.scores is None or all(key in event.scores for key in self._class_index)

    def _champion_reference_known(self) -> bool:
        return self._champion is not None and bool(self._champion.reference)

    def _scores(self, event: PredictionMade) -> tuple[float, ...]:
        if not self._class_index or event.scores is None:
            return ()
        scores = [0.0] * len(self._class_index)
        for key, value in event.scores.items():
            if key in self._class_index:
                scores[self._class_index[key]] = value
        return tuple(scores)

    def _truth_score(self, p: Pending, label: Any) -> float | None:
        index = self._class_index.get(class_key(label)) if p.scores else None
        return None if index is None else p.scores[index]

    def _score(self, event: PredictionMade) -> float:
        label = self._spec.label
        if event.scores is None:
            return float(event.prediction)
        if label.task == "binary" and label.positive is not None:
            return event.scores.get(class_key(label.positive), 0.0)
        return max(event.scores.values(), default=0.0)

    def _feed(
        self,
        window: LiveWindow,
        watches: Sequence[Watch],
        values: NDArray[np.float64],
        where: NDArray[np.float64],
    ) -> None:
        """Append to the window in pieces that end where a test is due, so tests fall on the
        same rows whatever the batch boundaries."""
        every = self._policy.test_every
        start = 0
        while start < len(values):
            stop = start + every - window.added % every
            window.extend(values[start:stop], where[start:stop])
            start = stop
            if window.added % every == 0 and window.filled >= self._spec.drift.min_samples:
                self._test(window, watches)

    def _test(self, window: LiveWindow, watches: Sequence[Watch]) -> None:
        champion = self._champion
        assert champion is not None
        block, where = window.rows()
        for watch in watches:
            result = watch.test(block)
            champion.last[f"{watch.kind}/{watch.signal}/{watch.method}"] = result.statistic
            if not result.fired:
                continue
            alarm = Alarm(
                kind=watch.kind,
                signal=watch.signal,
                detector=watch.method,
                statistic=result.statistic,
                threshold=watch.threshold,
                fired_at=float(where[-1, 0]),
                window=(float(where[0, 0]), float(where[-1, 0]), len(block)),
                change_at=float(where[0, 0]),
                change_partition=int(where[0, 1]),
                change_offset=int(where[0, 2]),
                evidence={
                    "reference_mean": result.reference_mean,
                    "live_mean": result.live_mean,
                    "samples": float(window.added),
                },
            )
            since = int(np.count_nonzero(champion.rolling.times() >= alarm.change_at))
            champion.alarms.fire(alarm, since)

    def _joined(self, joined: Joined) -> None:
        if self._champion is not None:
            self._queue.push(joined)

    def _settle(self) -> None:
        """Feed the joins the horizon has passed, in event-time order, with the reports due."""
        horizon = self._horizon.advance(self._watermark)
        while (item := self._queue.pop_before(horizon)) is not None:
            self._reports_until(item[0])
            self._release(item[1])
        self._reports_until(horizon)

    def _release(self, joined: Joined) -> None:
        champion = self._champion
        if champion is None:
            return
        mine = [p for p in joined.predictions if p.version == champion.version]
        for p in mine:
            self._labelled(champion, p, joined.label)
        if self._shadow is not None:
            version, rolling = self._shadow
            for p in joined.predictions:
                if p.version != version:
                    continue
                rolling.add(p.at, joined.label, p.scores, p.prediction)
                if mine:
                    self._agreement[0] += int(mine[0].prediction == p.prediction)
                    self._agreement[1] += 1

    def _labelled(self, champion: Champion, p: Pending, label: Any) -> None:
        champion.rolling.add(p.at, label, p.scores, p.prediction)
        champion.alarms.labelled(p.at)
        champion.fed.append((p.at, p.partition, p.offset))
        interval = self._interval
        interval["joined"] += 1
        interval["first"] = min(interval["first"], p.at)
        interval["last"] = max(interval["last"], p.at)
        classifier = self._spec.label.classes is not None
        error = error_of(
            label, p.prediction, classifier=classifier, truth_score=self._truth_score(p, label)
        )
        miss = error_of(label, p.prediction, classifier=classifier, truth_score=None)
        for detector in champion.detectors:
            detection = detector.update(miss if detector.method in ZERO_ONE_DETECTORS else error)
            if detection is not None:
                self._performance_alarm(champion, detector.method, detector.threshold, detection)

    def _performance_alarm(
        self, champion: Champion, method: str, threshold: float, detection: Detection
    ) -> None:
        if detection.after_mean <= detection.before_mean:
            # the detectors fire on a change either way; fewer errors is no reason to retrain
            self._count("improvements")
            return
        back = detection.index - detection.change_point
        at, partition, offset = champion.fed[max(0, len(champion.fed) - 1 - back)]
        fired_at = champion.fed[-1][0]
        alarm = Alarm(
            kind="performance",
            signal="error",
            detector=method,
            statistic=detection.after_mean,
            threshold=threshold,
            fired_at=fired_at,
            window=(min(at, fired_at), fired_at, back + 1),
            change_at=at,
            change_partition=partition,
            change_offset=offset,
            evidence={"error_before": detection.before_mean, "error_after": detection.after_mean},
        )
        champion.last[f"performance/error/{method}"] = detection.after_mean
        champion.alarms.fire(alarm, back + 1)

    def _made_at(self, at: float) -> None:
        start = at // self._policy.report_every_s * self._policy.report_every_s
        if self._next_report is None or start >= self._next_report - self._policy.report_every_s:
            self._made[start] = self._made.get(start, 0) + 1

    def _reports_until(self, until: float) -> None:
        """Close the report intervals that end at or before ``until`` (the horizon, or the next
        join to feed): one report each, but for intervals with no prediction and no join."""
        every = self._policy.report_every_s
        champion = self._champion
        if champion is None:
            return
        if self._next_report is None:
            if not self._made or min(self._made) >= until:
                return
            self._next_report = min(self._made) + every
        while self._next_report <= until:
            end = self._next_report
            made = self._made.pop(end - every, 0)
            if made or self._interval["joined"]:
                self._outbox.append(self._report(champion, end, made))
                self._count("reports")
            self._interval = _new_interval()
            # nothing joins before ``until``: the next interval with content holds a prediction
            upcoming = min(min(self._made, default=until), until)
            self._next_report = max(end + every, upcoming // every * every + every)

    def _report(self, champion: Champion, end: float, made: int) -> PerformanceReported:
        interval = self._interval
        joined = int(interval["joined"])
        first = float(interval["first"]) if joined else end
        last = float(interval["last"]) if joined else end
        dataset = self._spec.name
        return PerformanceReported(
            event_id=f"performance.reported:{dataset}:{champion.version}:{int(end)}",
            occurred_at=_time(end),
            producer=self._policy.producer,
            dataset=dataset,
            model_version=champion.version,
            window=TimeWindow(start=_time(first), end=_time(last), size=joined),
            metrics=champion.rolling.metrics(self._spec, self._policy.max_fpr),
            label_coverage=min(1.0, joined / made) if made else 0.0,
            shadow=self._shadow_comparison(),
        )

    def _shadow_comparison(self) -> ShadowComparison | None:
        if self._shadow is None:
            return None
        agreed, compared = self._agreement
        return ShadowComparison(
            model_version=self._shadow[0],
            metrics=self._shadow[1].metrics(self._spec, self._policy.max_fpr),
            agreement=agreed / compared if compared else None,
        )

    def _drift_event(self, alarm: Alarm) -> DriftDetected:
        assert self._champion is not None
        dataset, version = self._spec.name, self._champion.version
        where = f"{alarm.change_at}:{alarm.change_partition}:{alarm.change_offset}"
        key = f"{dataset}\n{version}\n{alarm.kind}\n{alarm.signal}\n{alarm.detector}\n{where}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        start, end, size = alarm.window
        return DriftDetected(
            event_id=f"drift.detected:{dataset}:{version}:{digest}",
            occurred_at=_time(alarm.fired_at),
            producer=self._policy.producer,
            dataset=dataset,
            model_version=version,
            kind=alarm.kind,
            signal=alarm.signal,
            detector=alarm.detector,
            statistic=alarm.statistic,
            threshold=alarm.threshold,
            window=TimeWindow(start=_time(start), end=_time(end), size=size),
            change_point=ChangePoint(
                event_time=_time(alarm.change_at),
                partition=alarm.change_partition,
                offset=alarm.change_offset,
            ),
            evidence={
                **{k: v for k, v in alarm.evidence.items() if np.isfinite(v)},
                "post_change_labels": float(alarm.post_change_labels),
            },
        )


def _new_interval() -> dict[str, float]:
    return {"joined": 0, "first": np.inf, "last": -np.inf}


def _ts(event: FeaturesComputed | PredictionMade | OutcomeValidated) -> float:
    return event.occurred_at.timestamp()


def _time(at: float) -> datetime:
    return datetime.fromtimestamp(at, tz=UTC)


def _iso(at: float) -> str:
    return _time(at).isoformat()


def _where(seen: Sequence[Seen[Any]]) -> NDArray[np.float64]:
    return np.asarray([(_ts(s.event), s.partition, s.offset) for s in seen], dtype=np.float64)


def _event(document: Mapping[str, Any]) -> DriftDetected | PerformanceReported:
    if document["event_type"] == "drift.detected":
        return DriftDetected.model_validate(document)
    return PerformanceReported.model_validate(document)
