"""Lateness: how far out of order events may arrive, and how late a label may come.

Both bound state: the feature service keeps an entity's events for its longest window plus
``events``, and training joins a label to its event only within ``labels`` after it, so the
offline store reads a time window of labels instead of looking each one up.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from driftloop_spec._base import SpecModel
from driftloop_spec.durations import Duration, within

__all__ = ["LatenessSpec"]


class LatenessSpec(SpecModel):
    """How late data events and labels may arrive, by event time."""

    events: Annotated[Duration, within("1s", "1d")] = Field(
        default=300,
        description="How far behind its entity's newest event a data event may arrive and still "
        "be placed in the entity's windows in event-time order (its features change with it); "
        "a label stamped up to this long before its event still joins it. Default '5m'.",
    )
    labels: Annotated[Duration, within("1m", "365d")] = Field(
        default=7 * 86_400,
        description="How long after its event a label still joins it for training; a later "
        "label is not learnt from. Default '7d'.",
    )
