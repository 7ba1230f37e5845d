"""A synthetic upstream system: card transactions of the fraud spec, with a fraud pattern that can
change part-way, and their labels.

Used by ``make demo``, the benchmarks and the end-to-end tests. Legitimate transactions follow
the cards' habits: ~1,000 cards of uneven activity, each with its issuing country, merchant
categories with their own amount distributions, mostly domestic merchants, the optional
``channel`` now and then missing, event times increasing (~0.8 s apart on average). A fraudulent
one follows the fraud pattern in force:

- ``abroad`` (before the change): large amounts at electronics and travel merchants abroad;
- ``domestic`` (after it): mid-size amounts at entertainment and health merchants at home, the
  card's own country, which the ``abroad`` pattern taught a model to trust.

Everything is drawn from one seeded ``random.Random``: the same arguments give the same stream.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from driftloop_contracts import DataEvent, OutcomeEvent

__all__ = ["FRAUD_PATTERNS", "CardTransactions", "FraudPattern", "Transaction", "outcome_of"]

T = TypeVar("T")

FraudPattern = Literal["abroad", "domestic"]
"""How fraud looks: before the change (``abroad``) or after it (``domestic``)."""

FRAUD_PATTERNS: tuple[FraudPattern, ...] = ("abroad", "domestic")

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
"""Event time of the first transaction, unless told otherwise."""

# merchant category: (weight, mu, sigma) of a log-normal amount in EUR
CATEGORIES: dict[str, tuple[float, float, float]] = {
    "grocery": (25, 3.4, 0.6),
    "restaurant": (18, 3.3, 0.5),
    "online_retail": (17, 3.8, 0.9),
    "fuel": (12, 4.0, 0.3),
    "entertainment": (8, 3.2, 0.6),
    "health": (8, 3.5, 0.7),
    "electronics": (6, 5.0, 1.0),
    "travel": (6, 5.5, 0.9),
}
CARD_COUNTRIES = {"FR": 70, "DE": 10, "ES": 5, "IT": 5, "BE": 4, "GB": 3, "US": 3}
MERCHANT_COUNTRIES = ("FR", "DE", "ES", "IT", "BE", "NL", "GB", "US", "CH", "PT")
CHANNELS = {"pos": 60, "ecommerce": 30, "atm": 2, None: 8}  # None: not sent (optional field)

# fraud pattern: (categories, mu, sigma of the amount, share of merchants abroad)
PATTERNS: dict[FraudPattern, tuple[tuple[str, ...], float, float, float]] = {
    "abroad": (("electronics", "travel"), 6.0, 0.5, 0.9),
    "domestic": (("entertainment", "health"), 5.0, 0.3, 0.0),
}


@dataclass(frozen=True, slots=True)
class Transaction:
    """A data event of the stream and the truth about it (known to the simulator only)."""

    event: DataEvent
    is_fraud: bool
    pattern: FraudPattern | None


class CardTransactions:
    """An endless transaction stream of the fraud spec; each ``take`` continues it."""

    def __init__(
        self,
        *,
        dataset: str = "fraud",
        cards: int = 1_000,
        fraud_rate: float = 0.03,
        change_at: int | None = None,
        seed: int = 11,
        start: datetime = START,
        id_prefix: str = "txn",
    ) -> None:
        """A stream of ``dataset``; the fraud pattern changes from ``abroad`` to ``domestic``
        at transaction number ``change_at`` (never, when ``None``)."""
        self._rng = rng = random.Random(seed)
        self._dataset, self._fraud_rate, self._change_at = dataset, fraud_rate, change_at
        self._cards = [f"card-{n:05d}" for n in range(cards)]
        # uneven activity: a few cards are used far more often than most
        self._activity = _cumulative([rng.lognormvariate(0, 1) for _ in range(cards)])
        self._issued = {card: _pick(rng, CARD_COUNTRIES) for card in self._cards}
        self._moment, self._count, self._prefix = start, 0, id_prefix

    @property
    def count(self) -> int:
        """How many transactions were taken so far."""
        return self._count

    def pattern_at(self, number: int) -> FraudPattern:
        """The fraud pattern in force at transaction ``number``."""
        return "abroad" if self._change_at is None or number < self._change_at else "domestic"

    def take(self, n: int, *, labelled: bool = False) -> list[Transaction]:
        """The next ``n`` transactions; with ``labelled``, each event carries its label inline
        (a backfill of history)."""
        return [self._next(labelled) for _ in range(n)]

    def _next(self, labelled: bool) -> Transaction:
        rng = self._rng
        self._moment += timedelta(seconds=rng.expovariate(1 / 0.8))
        card = rng.choices(self._cards, cum_weights=self._activity)[0]
        is_fraud = rng.random() < self._fraud_rate
        pattern = self.pattern_at(self._count) if is_fraud else None
        fields = self._fraud(card, pattern) if pattern else self._habit(card)
        channel = "ecommerce" if fields["merchant_category"] == "online_retail" else None
        channel = channel or _pick(rng, CHANNELS)
        if channel is not None:
            fields["channel"] = channel
        event = DataEvent(
            event_id=f"{self._prefix}-{self._count:09d}",
            dataset=self._dataset,
            entity_id=card,
            occurred_at=self._moment,
            fields=fields,
            label=is_fraud if labelled else None,
        )
        self._count += 1
        return Transaction(event, is_fraud, pattern)

    def _habit(self, card: str) -> dict[str, str | float]:
        rng, issued = self._rng, self._issued[card]
        category = _pick(rng, {name: w for name, (w, _, _) in CATEGORIES.items()})
        _, mu, sigma = CATEGORIES[category]
        return {
            "amount": round(rng.lognormvariate(mu, sigma), 2),
            "merchant_category": category,
            "country": issued if rng.random() < 0.88 else rng.choice(MERCHANT_COUNTRIES),
            "card_country": issued,
        }

    def _fraud(self, card: str, pattern: FraudPattern) -> dict[str, str | float]:
        rng, issued = self._rng, self._issued[card]
        categories, mu, sigma, abroad = PATTERNS[pattern]
        elsewhere = [c for c in MERCHANT_COUNTRIES if c != issued]
        return {
            "amount": round(rng.lognormvariate(mu, sigma), 2),
            "merchant_category": rng.choice(categories),
            "country": rng.choice(elsewhere) if rng.random() < abroad else issued,
            "card_country": issued,
        }


def outcome_of(
    transaction: Transaction, delay: timedelta, producer: str = "chargebacks"
) -> OutcomeEvent:
    """The label of ``transaction`` as the upstream system reports it ``delay`` later."""
    event = transaction.event
    return OutcomeEvent(
        event_id=f"outcome-{event.event_id}",
        occurred_at=event.occurred_at + delay,
        producer=producer,
        dataset=event.dataset,
        subject_event_id=event.event_id,
        label=transaction.is_fraud,
        entity_id=event.entity_id,
    )


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng: random.Random, weighted: Mapping[T, float]) -> T:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]
