"""The runtime's delivery guarantees, on the real embedded broker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driftloop_contracts import DEAD_LETTER_TOPIC, DataEvent, DeadLettered
from tests.integration.apps.relay import RelaySettings, wire
from tests.integration.kafka_helpers import committed_offset, new_topics, produce, read_all, unique

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
BIG = 300_000  # bytes: base64 in a dead letter, more than the producer's 256 KiB batch


def data_event(n: int, **fields: float | str | bool | None) -> DataEvent:
    return DataEvent(
        event_id=f"evt-{n}",
        dataset="relay",
        entity_id=f"card-{n % 3}",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        fields={"amount": n, **fields},
    )


def message(event: DataEvent) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode()
    return (
        event.entity_id.encode(),
        event.model_dump_json().encode(),
        [("traceparent", traceparent)],
    )


def relay_settings(infra: dict[str, str], tmp_path: Path, **extra: object) -> RelaySettings:
    return RelaySettings(
        kafka_bootstrap=infra["DRIFTLOOP_KAFKA_BOOTSTRAP"],
        mongo_uri=infra["DRIFTLOOP_MONGO_URI"],
        traces_file=tmp_path / "traces.jsonl",
        **extra,  # type: ignore[arg-type]
    )


def dead_letters_from(records: list, source_topic: str) -> list[DeadLettered]:  # type: ignore[type-arg]
    letters = [DeadLettered.model_validate_json(r.value) for r in records]
    return [letter for letter in letters if letter.source_topic == source_topic]


async def test_batch_flows_and_bad_messages_become_dead_letters(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    source, sink = unique("relay-in"), unique("relay-out")
    await new_topics(bootstrap, source, sink)
    good = [data_event(n) for n in range(20)]
    await produce(
        bootstrap,
        source,
        [
            *map(message, good[:10]),
            (b"k", b"this is not json", []),
            (b"k", b'{"event_id": "evt-x", "dataset": "relay"}', []),
            message(data_event(99, explode=True)),
            (b"k", b"{" * BIG, []),  # its dead letter is larger than a producer batch
            *map(message, good[10:]),
        ],
    )
    dead_before = len(await read_all(bootstrap, DEAD_LETTER_TOPIC, expect=10**6, timeout_s=1))

    relay = wire(
        relay_settings(
            infra, tmp_path, input_topic=source, output_topic=sink, group_id=unique("relay")
        )
    )
    await relay.start()
    try:
        outputs = await read_all(bootstrap, sink, expect=20)
        letters = await read_all(bootstrap, DEAD_LETTER_TOPIC, expect=dead_before + 4)
    finally:
        await relay.stop()

    relayed = sorted(
        (DataEvent.model_validate_json(r.value) for r in outputs),
        key=lambda e: int(e.event_id.split("-")[1].split(".")[0]),
    )
    assert [e.fields["amount"] for e in relayed] == [2 * n for n in range(20)]
    assert all(e.causation_id == f"evt-{n}" for n, e in enumerate(relayed))
    assert {r.key for r in outputs} == {b"card-0", b"card-1", b"card-2"}
    # traced per batch: each output's traceparent names the publish span of its batch, a
    # child of the batch's process span, which links to the inputs' producer span
    relay.tracer_provider.force_flush()
    spans = exported_spans(tmp_path / "traces.jsonl")
    for record in outputs:
        publish = spans[record_span(record)]
        assert publish["name"] == f"{sink} publish"
        assert publish["attributes"]["messaging.batch.message_count"] >= 1
        process = spans[publish["parent_span_id"]]
        assert process["name"] == f"{source} process"
        assert process["trace_id"] == publish["trace_id"] != TRACE_ID
        assert {link["trace_id"] for link in process["links"]} == {TRACE_ID}
    listed = [e for s in spans.values() for e in s["attributes"].get("driftloop.event_ids", [])]
    assert {e.event_id for e in relayed} <= set(listed)

    dead = sorted(dead_letters_from(letters, source), key=lambda d: d.source_offset)
    assert [d.source_offset for d in dead] == [10, 11, 12, 13]
    assert dead[0].original_value == b"this is not json"
    assert "Invalid JSON" in dead[0].reason
    assert "fields" in dead[1].reason
    assert "Field required" in dead[1].reason
    assert dead[2].reason == "handler failed: ValueError: event evt-99 asked to explode"
    assert dead[2].causation_id == "evt-99"
    assert dead[3].original_value == b"{" * BIG
    assert all(d.source_partition == 0 for d in dead)


def start_relay(infra: dict[str, str], tmp_path: Path, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **infra, "DRIFTLOOP_TRACES_FILE": str(tmp_path / "traces.jsonl")}
    env |= {f"DRIFTLOOP_{name.upper()}": value for name, value in settings.items()}
    with (tmp_path / "relay.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.apps.relay"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path.cwd(),
        )


def exported_spans(path: Path) -> dict[str, dict[str, Any]]:
    """The spans in a traces file, by span id."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {record["span_id"]: record for record in records}


def record_span(record: Any) -> str:
    """The span id in a consumed record's ``traceparent``."""
    return str(dict(record.headers)["traceparent"].decode().split("-")[2])


async def wait_for(path: Path, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s * 10)):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never appeared")


async def relay_holding_a_batch(
    infra: dict[str, str], tmp_path: Path, prefix: str, *, delay_s: str
) -> tuple[str, str, str, subprocess.Popen[bytes]]:
    """A relay process that has fetched a batch of 5 events and holds it for ``delay_s``."""
    source, sink, group = unique(f"{prefix}-in"), unique(f"{prefix}-out"), unique(prefix)
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    await new_topics(bootstrap, source, sink)
    await produce(bootstrap, source, [message(data_event(n)) for n in range(5)])
    marker = tmp_path / "batch-arrived"
    process = start_relay(
        infra,
        tmp_path,
        input_topic=source,
        output_topic=sink,
        group_id=group,
        delay_s=delay_s,
        marker=str(marker),
    )
    try:
        await wait_for(marker)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return source, sink, group, process


async def test_consumer_killed_before_publishing_gets_its_batch_again(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    source, sink, group, doomed = await relay_holding_a_batch(
        infra, tmp_path, "crash", delay_s="600"
    )
    try:
        # longer than aiokafka's auto-commit interval (5 s): an at-most-once consumer that
        # committed on receipt would have done so by now
        await asyncio.sleep(6)
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    assert await committed_offset(bootstrap, source, group) in (None, -1)
    assert await read_all(bootstrap, sink, expect=1, timeout_s=1) == []

    relay = wire(
        relay_settings(infra, tmp_path, input_topic=source, output_topic=sink, group_id=group)
    )
    await relay.start()
    try:
        outputs = await read_all(bootstrap, sink, expect=5)
    finally:
        await relay.stop()
    assert sorted(r.value for r in outputs) == sorted(doubled_json(n) for n in range(5))
    assert await committed_offset(bootstrap, source, group) == 5


def doubled_json(n: int) -> bytes:
    from tests.integration.apps.relay import doubled

    return doubled(data_event(n)).model_dump_json().encode()


async def test_sigterm_finishes_publishes_and_commits_the_batch_in_hand(
    infra: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    source, sink, group, relay = await relay_holding_a_batch(infra, tmp_path, "term", delay_s="3")
    try:
        relay.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(relay.wait, 30)
    finally:
        if relay.poll() is None:
            relay.kill()
    assert exit_code == 0, (tmp_path / "relay.log").read_text()
    outputs = await read_all(bootstrap, sink, expect=5, timeout_s=5)
    assert len(outputs) == 5
    assert await committed_offset(bootstrap, source, group) == 5
