"""Dead letters for operators: grouped by cause, selected, and replayed to their source topic.

The grouping, selection and replay planning are pure functions over ``DeadLettered`` events;
``read_dead_letters`` and ``replay`` are the only parts that talk to Kafka.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from driftloop_contracts import DEAD_LETTER_TOPIC, DeadLettered
from driftloop_runtime import RuntimeSettings, read_topic
from driftloop_runtime.kafka import client_options
from driftloop_spec import parse_duration

__all__ = [
    "REPLAY_HEADER",
    "LetterGroup",
    "ReplayPlan",
    "distinct",
    "group_letters",
    "parse_since",
    "plan_replay",
    "read_dead_letters",
    "reason_pattern",
    "replay",
    "sample_id",
    "select_letters",
]

REPLAY_HEADER = "driftloop-replay-of"
"""Header a replayed record carries: the event id of the dead letter it was replayed from."""

TRUNCATED = "(original truncated to"
"""What the runtime appends to the reason of a dead letter whose original it had to cut."""

_VALIDATION_ERRORS = re.compile(r"\d+ validation errors? for \w+$")
_LISTED = re.compile(r"\[[^\[\]]*\]")
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_PYDANTIC_DETAILS = re.compile(r"\s*\[type=.*$")


@dataclass(frozen=True, slots=True)
class LetterGroup:
    """Dead letters with the same source topic, error type and reason pattern."""

    source_topic: str
    error_type: str
    pattern: str
    count: int
    first_seen: datetime
    last_seen: datetime
    samples: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        """The group as plain JSON values."""
        return {
            "source_topic": self.source_topic,
            "error_type": self.error_type,
            "reason": self.pattern,
            "count": self.count,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "samples": list(self.samples),
        }


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """What a replay sends, and what it leaves out and why."""

    send: tuple[DeadLettered, ...]
    truncated: tuple[DeadLettered, ...]
    repeats: int


def reason_pattern(reason: str) -> str:
    """The cause a reason names, with the values that differ between events masked.

    Only the first clause counts (a dead letter may list several problems; the first names the
    group), a pydantic error is cut to its first error's location and message, and quoted
    strings, bracketed lists and numbers become ``"…"``, ``[…]`` and ``N``, so that
    ``amount: -5 is below the minimum 0.0`` and ``amount: -7.5 is below the minimum 0.0`` are
    one cause.
    """
    head, _, rest = reason.partition("\n")
    if _VALIDATION_ERRORS.search(head):
        first = _first_pydantic_error(rest)
        clause = _VALIDATION_ERRORS.sub(lambda _: first, head)
    else:
        clause = head.split("; ", 1)[0]
    clause = _LISTED.sub("[…]", _QUOTED.sub('"…"', clause))
    return _NUMBER.sub("N", clause).strip()


def _first_pydantic_error(details: str) -> str:
    lines = details.splitlines()
    if not lines:
        return ""
    if lines[0].startswith(" "):  # no location: the message itself (e.g. invalid JSON)
        return _PYDANTIC_DETAILS.sub("", lines[0].strip())
    message = _PYDANTIC_DETAILS.sub("", lines[1].strip()) if len(lines) > 1 else ""
    return f"{lines[0]}: {message}"


def sample_id(letter: DeadLettered) -> str:
    """The rejected event's id when known, else where it was read (``topic@partition:offset``)."""
    if letter.causation_id:
        return letter.causation_id
    try:
        original = json.loads(letter.original_value)
    except ValueError:
        original = None
    event_id = original.get("event_id") if isinstance(original, dict) else None
    if isinstance(event_id, str) and event_id:
        return event_id[:128]
    return f"{letter.source_topic}@{letter.source_partition}:{letter.source_offset}"


def distinct(letters: Iterable[DeadLettered]) -> list[DeadLettered]:
    """Each dead letter once (at-least-once delivery may have published one twice), in order."""
    return list({letter.event_id: letter for letter in letters}.values())


def group_letters(letters: Iterable[DeadLettered], *, samples: int = 3) -> list[LetterGroup]:
    """Dead letters grouped by source topic, error type and reason pattern; largest first."""
    groups: dict[tuple[str, str, str], list[DeadLettered]] = {}
    for letter in sorted(distinct(letters), key=lambda letter: letter.occurred_at):
        key = (letter.source_topic, letter.error_type or "-", reason_pattern(letter.reason))
        groups.setdefault(key, []).append(letter)
    found = [
        LetterGroup(
            source_topic=topic,
            error_type=error_type,
            pattern=pattern,
            count=len(members),
            first_seen=min(m.occurred_at for m in members),
            last_seen=max(m.occurred_at for m in members),
            samples=tuple(dict.fromkeys(sample_id(m) for m in members))[:samples],
        )
        for (topic, error_type, pattern), members in groups.items()
    ]
    return sorted(found, key=lambda g: (-g.count, g.source_topic, g.error_type, g.pattern))


def select_letters(
    letters: Iterable[DeadLettered],
    *,
    reason_contains: str | None = None,
    source_topic: str | None = None,
    since: datetime | None = None,
) -> list[DeadLettered]:
    """The distinct dead letters that match every filter given, oldest first.

    ``reason_contains`` is matched without regard to case; ``since`` against when the record
    was dead-lettered.
    """
    needle = reason_contains.casefold() if reason_contains else None
    chosen = [
        letter
        for letter in distinct(letters)
        if (needle is None or needle in letter.reason.casefold())
        and (source_topic is None or letter.source_topic == source_topic)
        and (since is None or letter.occurred_at >= since)
    ]
    return sorted(chosen, key=lambda letter: letter.occurred_at)


def plan_replay(letters: Sequence[DeadLettered]) -> ReplayPlan:
    """Which of ``letters`` to send again: each original once (a record rejected, replayed and
    rejected again has two dead letters with the same bytes), none that was truncated."""
    truncated = tuple(letter for letter in letters if TRUNCATED in letter.reason)
    send: dict[tuple[str, str | None, str], DeadLettered] = {}
    for letter in letters:
        if TRUNCATED not in letter.reason:
            digest = hashlib.sha256(letter.original_value).hexdigest()
            send.setdefault((letter.source_topic, letter.original_key, digest), letter)
    repeats = len(letters) - len(truncated) - len(send)
    return ReplayPlan(tuple(send.values()), truncated, repeats)


def parse_since(text: str, now: datetime) -> datetime:
    """A moment from ``--since``: an ISO 8601 time (UTC when it has no zone) or a duration
    back from ``now`` (``30m``, ``2h``, ``7d``).

    Raises:
        ValueError: If ``text`` is neither.
    """
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: give an ISO 8601 time (2026-11-22T07:00:00Z) or a "
            "duration back from now (30m, 2h, 7d)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def read_dead_letters(settings: RuntimeSettings) -> list[DeadLettered]:
    """Every dead letter on the dead-letter topic now, oldest first per partition."""
    return await read_topic(settings, DEAD_LETTER_TOPIC, DeadLettered)


async def replay(settings: RuntimeSettings, letters: Sequence[DeadLettered]) -> int:
    """Publish each letter's original bytes with its original key to its source topic; return
    how many the brokers acknowledged."""
    producer = AIOKafkaProducer(
        **client_options(settings),
        client_id="driftloop-cli",
        acks="all",
        enable_idempotence=False,  # the embedded broker does not support it; see the runtime
    )
    await producer.start()
    try:
        sent = [
            await producer.send(
                letter.source_topic,
                letter.original_value,
                key=letter.original_key.encode() if letter.original_key is not None else None,
                headers=[(REPLAY_HEADER, letter.event_id.encode())],
            )
            for letter in letters
        ]
        for future in sent:
            await future
    finally:
        await producer.stop()
    return len(sent)
