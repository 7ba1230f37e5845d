"""driftloop's offline store: the served feature rows training learns from, with their labels.

The feature service appends rows and labels (``OfflineWriter``); the trainer reads a time window
of joined rows and counts labelled rows (``OfflineReader``); ``join_labels`` is the join both
sides agree on, in pure pandas.
"""

from __future__ import annotations

from driftloop_offline.join import LABEL, SUBJECT, TIME, join_labels
from driftloop_offline.store import (
    INDEXES,
    LabelJoin,
    OfflineReader,
    OfflineWriter,
    columns_digest,
)

__all__ = [
    "INDEXES",
    "LABEL",
    "SUBJECT",
    "TIME",
    "LabelJoin",
    "OfflineReader",
    "OfflineWriter",
    "columns_digest",
    "join_labels",
]
