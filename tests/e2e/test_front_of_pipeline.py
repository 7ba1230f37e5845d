"""The front of the pipeline as processes: registry → ingestion → feature, on the embedded stack.

A spec applied through the registry's API; raw data events and outcomes over Kafka and over
ingestion's HTTP API, valid, invalid in each way ingestion checks, and repeated. Out come one
feature vector per valid event (the values one uninterrupted computation over the valid events
gives), a dead letter with its reason per invalid Kafka event (an invalid HTTP event is answered,
not dead-lettered), nothing for a repeat, and the labelled rows in the feature service's offline
store, as training reads them, with exactly the features that were served.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from pymongo import AsyncMongoClient

from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    DEAD_LETTER_TOPIC,
    FEATURES_TOPIC,
    OUTCOMES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    DataEvent,
    DeadLettered,
    Event,
    FeaturesComputed,
    OutcomeEvent,
    OutcomeValidated,
)
from driftloop_contracts.types import FieldValue
from driftloop_features import DataRow, EntityWindows, compute_features
from driftloop_offline import LABEL, SUBJECT, LabelJoin, OfflineReader, OfflineWriter
from driftloop_runtime import RuntimeSettings, create_mongo_client
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec, parse_spec
from tests.integration.conftest import RunningService
from tests.integration.ingestion.helpers import (
    Record,
    TopicTail,
    post,
    publish_events,
    stats,
    wait_for_spec,
    wait_for_stats,
)
from tests.integration.kafka_helpers import unique
from tests.integration.registry.helpers import apply_spec, spec_text

pytestmark = pytest.mark.e2e

START = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
MERCHANTS = ["grocery", "restaurant", "travel", "electronics", "fuel", "online_retail"]
CATEGORIES = (
    '["grocery", "restaurant", "travel", "electronics", "fuel", "online_retail", '
    '"entertainment", "health"]'
)
TIMEOUT_S = 40.0

Raw = Event | tuple[bytes, bytes]


class Scenario:
    """Builds the test's events and keeps what they should become: the valid data events (each
    card's in the order sent) and the label each labelled row should end up with."""

    def __init__(self, ds: str) -> None:
        self.ds = ds
        self.rng = random.Random(11)
        self.valid: list[DataEvent] = []
        self.labels: dict[str, bool] = {}  # subject id: label
        self.outcomes: list[str] = []  # ids of the valid outcomes

    def id(self, name: str) -> str:
        return f"{self.ds}-{name}"

    def card(self, name: str) -> str:
        return f"{self.ds}-card-{name}"

    def event(
        self,
        name: str,
        card: str,
        minute: int,
        *,
        dataset: str | None = None,
        label: bool | str | None = None,
        drop: Sequence[str] = (),
        extra: Mapping[str, FieldValue] | None = None,
        **changes: FieldValue,
    ) -> DataEvent:
        """A data event of the fraud spec (valid unless ``changes``, ``drop``, ``dataset`` or
        ``label`` make it otherwise)."""
        values: dict[str, FieldValue] = {
            "amount": round(self.rng.lognormvariate(3, 1), 2),
            "merchant_category": self.rng.choice(MERCHANTS),
            "country": self.rng.choice(["FR", "FR", "DE", "US"]),
            "card_country": "FR",
        }
        values |= {**(extra or {}), **changes}
        return DataEvent(
            event_id=self.id(name),
            dataset=dataset or self.ds,
            entity_id=self.card(card),
            occurred_at=START + timedelta(minutes=minute),
            fields={k: v for k, v in values.items() if k not in drop},
            label=label,
        )

    def cards(self, prefix: str, cards: int, events: int) -> list[list[DataEvent]]:
        """``events`` valid events on each of ``cards`` cards, 4 to 40 minutes apart (so the 1 h
        and the 24 h windows differ), the first of each card labelled inline."""
        made = []
        for c in range(cards):
            minute, own = c * 3, []
            for n in range(events):
                minute += self.rng.randint(4, 40)
                label = (c % 2 == 0) if n == 0 else None
                extra: dict[str, FieldValue] = {"channel": "pos"} if n == 2 else {}
                if n == 3 and c == 1:
                    extra["colour"] = "red"  # not in the spec: accepted, left out
                own.append(
                    self.event(f"{prefix}{c}-{n}", f"{prefix}{c}", minute, label=label, extra=extra)
                )
                if label is not None:
                    self.labels[own[-1].event_id] = label
            made.append(own)
            self.valid += own
        return made

    def outcome(
        self,
        name: str,
        subject: DataEvent | str,
        label: bool | str,
        *,
        entity: bool = True,
        dataset: str | None = None,
        valid: bool = True,
    ) -> OutcomeEvent:
        """The outcome ``name`` of ``subject``; ``valid``: one that should be validated once
        (False for an invalid one and for a repeat)."""
        subject_id = subject if isinstance(subject, str) else subject.event_id
        outcome = OutcomeEvent(
            event_id=self.id(name),
            dataset=dataset or self.ds,
            subject_event_id=subject_id,
            label=label,
            occurred_at=START + timedelta(days=1),
            entity_id=subject.entity_id if entity and isinstance(subject, DataEvent) else None,
        )
        if valid:
            assert isinstance(label, bool)
            self.outcomes.append(outcome.event_id)
            if any(e.event_id == subject_id for e in self.valid):
                self.labels[subject_id] = label
        return outcome


def as_json(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def of_dataset(ds: str) -> Callable[[Record], bool]:
    def keep(record: Record) -> bool:
        return bool(json.loads(record.value).get("dataset") == ds)

    return keep


def subjects(records: list[Record]) -> set[str]:
    return {json.loads(r.value)["subject_event_id"] for r in records}


async def until(
    tail: TopicTail,
    keep: Callable[[Record], bool],
    done: Callable[[list[Record]], bool],
    *,
    settle_s: float = 0.0,
) -> list[Record]:
    """The kept records of ``tail`` once ``done`` holds for them (or after the timeout), read
    ``settle_s`` longer for any that should not be there."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_S
    found = await tail.collect(keep, expect=0)
    while not done(found) and loop.time() < deadline:
        found = await tail.collect(keep, expect=0, settle_s=0.2)
    return await tail.collect(keep, expect=0, settle_s=settle_s)


def letters_of(records: list[Record], ds: str) -> dict[str, DeadLettered]:
    """This test's dead letters, by the rejected event's id (its key when it had no id). A
    record dead-lettered again (a batch delivered twice) carries the same dead letter id."""
    found: dict[str, DeadLettered] = {}
    for record in records:
        letter = DeadLettered.model_validate_json(record.value)
        name = letter.causation_id or letter.original_key or ""
        if name.startswith(ds):
            known = found.setdefault(name, letter)
            assert known.event_id == letter.event_id, f"{name} dead-lettered twice"
    return found


def expected_features(spec: DatasetSpec, valid: list[DataEvent]) -> dict[str, list[float]]:
    """What one uninterrupted computation over the valid events, in order, gives (without the
    fields the spec does not declare, which ingestion leaves out)."""
    rows = [
        DataRow(
            e.event_id,
            e.entity_id,
            e.occurred_at,
            {k: v for k, v in e.fields.items() if k in spec.fields},
        )
        for e in valid
    ]
    computed = compute_features(spec, rows, EntityWindows(lateness=spec.lateness.events))
    return {e.event_id: computed.values[i].tolist() for i, e in enumerate(valid)}


def offline_store(feature: RunningService) -> AsyncMongoClient[Document]:
    """A client of the feature service's document store."""
    settings = RuntimeSettings(
        mongo_uri=feature.env["DRIFTLOOP_MONGO_URI"],
        mongo_database=feature.env["DRIFTLOOP_MONGO_DATABASE"],
    )
    return create_mongo_client(settings, appname="tests")


async def offline_rows(feature: RunningService, spec: DatasetSpec, *, rows: int) -> pd.DataFrame:
    """The feature service's labelled offline rows of ``spec``'s dataset as training reads
    them, once there are ``rows`` of them (or after the timeout)."""
    mongo = offline_store(feature)
    try:
        reader = OfflineReader(mongo[feature.env["DRIFTLOOP_MONGO_DATABASE"]], max_rows=10_000)
        join, span = LabelJoin.of(spec.lateness), timedelta(seconds=spec.training.window)
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while True:
            frame = await reader.window(spec.name, spec.feature_columns(), join, span)
            if len(frame) >= rows or asyncio.get_running_loop().time() > deadline:
                return frame
            await asyncio.sleep(0.3)
    finally:
        await mongo.close()


async def label_in_store(feature: RunningService, ds: str, subjects: set[str]) -> None:
    """Store a label for each of ``subjects`` in the feature service's offline store, as it
    stores a validated outcome (an unlabelled row is read only once it has a label)."""
    outcomes = [
        OutcomeValidated.example().model_copy(
            update={
                "event_id": f"validated:{ds}-late-{subject}",
                "occurred_at": START + timedelta(days=1),
                "dataset": ds,
                "subject_event_id": subject,
                "label": False,
            }
        )
        for subject in sorted(subjects)
    ]
    mongo = offline_store(feature)
    try:
        writer = OfflineWriter(
            mongo[feature.env["DRIFTLOOP_MONGO_DATABASE"]], label_wait=timedelta(days=7)
        )
        await writer.add_labels(outcomes, datetime.now(UTC))
    finally:
        await mongo.close()


async def test_valid_events_become_one_vector_each_invalid_ones_dead_letters_repeats_nothing(
    registry_service: RunningService,
    ingestion_service: RunningService,
    start_feature_service: Callable[[], asyncio.Task[RunningService]],
    infra: dict[str, str],
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    ds = unique("fraud")
    s = Scenario(ds)
    assert await apply_spec(registry_service, ds) == 1
    await wait_for_spec(ingestion_service, ds, 1)  # now on the specs topic
    feature_starting = start_feature_service()  # its groups start at the topics' beginning
    spec = parse_spec(spec_text(ds))
    before = await stats(ingestion_service)

    # Over Kafka: 4 cards of 5 events, with invalid events of the same cards between them.
    k0, k1, k2, k3 = s.cards("k", cards=4, events=5)
    not_json = f'{{"event_id": "{s.id("bad-json")}", "dataset": '.encode()
    invalid: list[Raw] = [
        s.event("bad-type", "k0", 5, amount="12.5"),
        s.event("bad-negative", "k1", 6, amount=-5.0),
        s.event("bad-casino", "k2", 7, merchant_category="casino"),
        s.event("bad-missing", "k3", 8, drop=("country",)),
        s.event("bad-null", "k0", 9, card_country=None),
        s.event("bad-channel", "k1", 10, channel="kiosk"),
        s.event("bad-label", "k2", 11, label="yes"),
        s.event("bad-dataset", "k3", 12, dataset=f"{ds}-none"),
        (s.card("k0").encode(), not_json),
        (
            s.id("bad-contract").encode(),  # JSON, but no entity_id, occurred_at, fields
            json.dumps({"event_id": s.id("bad-contract"), "dataset": ds}).encode(),
        ),
    ]
    kafka_data: list[Raw] = []
    for n in range(5):
        kafka_data += [k0[n], k1[n], k2[n], k3[n], *invalid[2 * n : 2 * n + 2]]
    kafka_data.insert(3, k0[0])  # a repeat, likely in the original's batch
    h0, h1, h2 = s.cards("h", cards=3, events=4)  # sent over HTTP below
    kafka_outcomes = [
        s.outcome("o-k0", k0[2], True),
        s.outcome("o-k1", k1[3], False),
        s.outcome("o-k2", k2[1], True, entity=False),  # keyed by its subject event id
        s.outcome("o-k3", k3[4], True),
        s.outcome("o-k0", k0[2], True, valid=False),  # a repeat
        s.outcome("o-bad-label", k0[1], "yes", valid=False),
        s.outcome("o-bad-dataset", k1[1], True, dataset=f"{ds}-none", valid=False),
        s.outcome("o-of-invalid", s.id("bad-negative"), True),  # its row never comes
        s.outcome("o-h0-early", h0[3], False),  # sent before its data event
    ]

    async with (
        TopicTail(bootstrap, DATA_VALIDATED_TOPIC) as validated,
        TopicTail(bootstrap, OUTCOMES_VALIDATED_TOPIC) as validated_outcomes,
        TopicTail(bootstrap, FEATURES_TOPIC) as features,
        TopicTail(bootstrap, DEAD_LETTER_TOPIC) as dead,
    ):
        mine = of_dataset(ds)
        await publish_events(bootstrap, DATA_TOPIC, kafka_data)
        await publish_events(bootstrap, OUTCOMES_TOPIC, kafka_outcomes)
        await until(validated, mine, lambda found: len(found) >= 20)

        # Over HTTP: 3 cards of 4 events, invalid events, a repeat within the request and one of
        # an event ingestion validated from Kafka already.
        http_data: list[Any] = [as_json(e) for trio in zip(h0, h1, h2, strict=True) for e in trio]
        http_data[4:4] = [
            as_json(s.event("h-bad-type", "h0", 20, amount=True)),
            as_json(s.event("h-bad-two", "h1", 21, amount=-1, channel="kiosk")),
            as_json(s.event("h-bad-missing", "h2", 22, drop=("merchant_category",))),
            as_json(s.event("h-bad-dataset", "h0", 23, dataset=f"{ds}-none")),
            {"event_id": s.id("h-bad-contract"), "dataset": ds},
            "not an event",
            as_json(h0[0]),
            as_json(k2[3]),
        ]
        answer = await post(ingestion_service, "/v1/events", http_data)
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["status"] for r in results] == [
            *["accepted"] * 4,
            *["rejected"] * 6,
            *["duplicate"] * 2,
            *["accepted"] * 8,
        ], answer.text
        reasons = [r["reasons"] for r in results[4:10]]
        assert reasons[:4] == [
            ["amount: expected a number, got boolean true"],
            [
                "amount: -1 is below the minimum 0.0",
                'channel: "kiosk" is not one of ["pos", "ecommerce", "atm"]',
            ],
            ["merchant_category: missing (required)"],
            [f'dataset: no spec is applied for "{ds}-none"'],
        ]
        assert sorted(reasons[4]) == [
            "entity_id: Field required",
            "fields: Field required",
            "occurred_at: Field required",
        ]
        assert reasons[5] == ["event: Input should be an object"]
        assert [r["warnings"] for r in results] == [
            ["colour: unknown field, not in the spec (left out)"]
            if isinstance(e, dict) and e.get("event_id") == h1[3].event_id
            else []
            for e in http_data
        ]
        again = await post(ingestion_service, "/v1/events", [as_json(h1[2])])
        assert [r["status"] for r in again.json()["results"]] == ["duplicate"]

        http_outcomes = [
            s.outcome("o-h1", h1[2], False),
            s.outcome("o-h2", h2[1], True),
            s.outcome("o-k3-over-http", k3[1], True),
            s.outcome("o-h1", h1[2], False, valid=False),  # repeated in the request
            s.outcome("o-h-bad-label", h2[2], "no", valid=False),
        ]
        answer = await post(ingestion_service, "/v1/outcomes", [as_json(o) for o in http_outcomes])
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        statuses = [r["status"] for r in results]
        assert statuses == ["accepted", "accepted", "accepted", "duplicate", "rejected"]
        assert results[4]["reasons"] == ['label: expected a boolean, got string "no"']

        # Once all is validated, Kafka repeats of a Kafka event, of an HTTP event and of an
        # outcome: dropped.
        await until(validated, mine, lambda found: len(found) >= len(s.valid))
        await publish_events(bootstrap, DATA_TOPIC, [k1[4], h2[3]])
        await publish_events(bootstrap, OUTCOMES_TOPIC, [kafka_outcomes[3]])
        await wait_for_stats(
            ingestion_service,
            lambda now: (
                now["data"]["duplicates"] - before["data"]["duplicates"] >= 3
                and now["outcomes"]["duplicates"] - before["outcomes"]["duplicates"] >= 2
            ),
        )

        valid_ids = {e.event_id for e in s.valid}
        feature = await feature_starting
        expected_letters = {
            *(s.id(f"bad-{n}") for n in ("type", "negative", "casino", "missing", "null")),
            *(s.id(f"bad-{n}") for n in ("channel", "label", "dataset", "contract")),
            s.card("k0"),  # not JSON: known by its key only
            s.id("o-bad-label"),
            s.id("o-bad-dataset"),
        }
        # Each read on a while longer for anything that should not be there.
        vectors, data_out, outcomes_out, every_letter = await asyncio.gather(
            until(features, mine, lambda f: subjects(f) >= valid_ids, settle_s=1),
            until(validated, mine, lambda f: len(f) >= len(s.valid), settle_s=1),
            until(validated_outcomes, mine, lambda f: len(f) >= len(s.outcomes), settle_s=1),
            until(
                dead,
                lambda _: True,
                lambda f: set(letters_of(f, ds)) >= expected_letters,
                settle_s=1,
            ),
        )

    # Ingestion: every valid event validated exactly once, repeats dropped.
    assert Counter(json.loads(r.value)["subject_event_id"] for r in data_out) == Counter(valid_ids)
    validated_by_id = {
        json.loads(r.value)["subject_event_id"]: json.loads(r.value) for r in data_out
    }
    assert {v["spec_version"] for v in validated_by_id.values()} == {1}
    assert "colour" not in validated_by_id[k1[3].event_id]["fields"]
    assert validated_by_id[h0[1].event_id]["source_topic"] == DATA_TOPIC  # HTTP: via the topic
    assert Counter(json.loads(r.value)["causation_id"] for r in outcomes_out) == Counter(s.outcomes)

    # Every invalid Kafka event a dead letter with its reason; no HTTP rejection dead-lettered.
    letters = letters_of(every_letter, ds)
    assert set(letters) == expected_letters
    spec_reasons = {
        "bad-type": 'amount: expected a number, got string "12.5"',
        "bad-negative": "amount: -5.0 is below the minimum 0.0",
        "bad-casino": f'merchant_category: "casino" is not one of {CATEGORIES}',
        "bad-missing": "country: missing (required)",
        "bad-null": "card_country: null (not nullable)",
        "bad-channel": 'channel: "kiosk" is not one of ["pos", "ecommerce", "atm"]',
        "bad-label": 'label: expected a boolean, got string "yes"',
        "o-bad-label": 'label: expected a boolean, got string "yes"',
    }
    for name, reason in spec_reasons.items():
        assert (letters[s.id(name)].error_type, letters[s.id(name)].reason) == ("spec", reason)
    for name in ("bad-dataset", "o-bad-dataset"):
        assert letters[s.id(name)].error_type == "unknown_dataset"
        assert letters[s.id(name)].reason == f'dataset: no spec is applied for "{ds}-none"'
    unparsed, no_clock = letters[s.card("k0")], letters[s.id("bad-contract")]
    assert unparsed.error_type == no_clock.error_type == "contract"
    assert unparsed.reason.startswith("does not match DataEvent: ")
    assert unparsed.original_value == not_json
    assert "occurred_at" in no_clock.reason
    assert letters[s.id("bad-negative")].original_key == s.card("k1")
    assert {x.source_topic for x in letters.values()} == {DATA_TOPIC, OUTCOMES_TOPIC}
    assert letters[s.id("o-bad-label")].source_topic == OUTCOMES_TOPIC
    downstream = [
        x
        for x in map(DeadLettered.model_validate_json, (r.value for r in every_letter))
        if x.source_topic not in (DATA_TOPIC, OUTCOMES_TOPIC) and ds.encode() in x.original_value
    ]
    assert downstream == []  # the feature service rejected none of this dataset's events

    # The feature service: one vector per valid event (a repeated delivery carries the same id
    # and values), the values of one uninterrupted computation over the valid events.
    expected = expected_features(spec, s.valid)
    served: dict[str, list[FeaturesComputed]] = defaultdict(list)
    for record in vectors:
        vector = FeaturesComputed.model_validate_json(record.value)
        served[vector.subject_event_id].append(vector)
    assert set(served) == valid_ids
    inline = {e.event_id: e.label for e in s.valid}
    for subject, copies in served.items():
        assert {v.event_id for v in copies} == {f"features:{subject}"}
        assert all(v.values == expected[subject] for v in copies), subject
        assert all(v.feature_names == list(spec.feature_columns()) for v in copies)
        assert {(v.spec_version, v.label) for v in copies} == {(1, inline[subject])}

    # The offline store, as training reads it: the rows labelled inline or by their outcome
    # (over Kafka or HTTP, before or after the row), nothing for the rest.
    labelled = await offline_rows(feature, spec, rows=len(s.labels))
    assert dict(zip(labelled[SUBJECT], labelled[LABEL], strict=True)) == s.labels
    assert len(s.labels) == 15  # 7 inline, 8 by outcomes
    # Labelled too, the rest come out as well: a row per valid event, with the served values.
    await label_in_store(feature, ds, valid_ids - set(s.labels))
    rows = await offline_rows(feature, spec, rows=len(valid_ids))
    assert set(rows[SUBJECT]) == valid_ids
    for subject, *values in rows[[SUBJECT, *spec.feature_columns()]].itertuples(index=False):
        assert values == expected[subject], subject
