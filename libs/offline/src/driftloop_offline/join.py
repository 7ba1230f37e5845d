"""The label join (pure pandas): each served row with the latest label that may join it.

A label joins its row (same subject event id) when its event time is no earlier than the row's
minus ``early`` (clocks drift) and no later than the row's plus ``late`` (bounded lateness). Of
the labels that may join a row, the latest by event time wins (ties: the greater label event
id), so a corrected outcome replaces an earlier one whatever order they were stored in.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["LABEL", "LABEL_ID", "LABEL_TIME", "SUBJECT", "TIME", "join_labels"]

# Meta columns: "@" cannot start a feature name, so they never clash with a feature column.
TIME, LABEL, SUBJECT = "@time", "@label", "@subject"
"""A row's event time, its label and its subject event id."""
LABEL_TIME, LABEL_ID = "@label_time", "@label_id"
"""A label's event time and its event id (in label frames only)."""


def join_labels(
    rows: pd.DataFrame, labels: pd.DataFrame, *, early: pd.Timedelta, late: pd.Timedelta
) -> pd.DataFrame:
    """The rows that have a label, each with its latest joinable one, ordered by event time.

    Args:
        rows: ``TIME`` and ``SUBJECT`` followed by the feature columns.
        labels: ``SUBJECT``, ``LABEL_TIME``, ``LABEL`` and ``LABEL_ID``.
        early: How long before its row's event time a label may be stamped.
        late: How long after its row's event time a label may be stamped.

    Returns:
        ``TIME``, ``LABEL`` and ``SUBJECT`` followed by the feature columns, in event-time order
        (ties by subject), one row per labelled subject.
    """
    features = [c for c in rows.columns if c not in (TIME, SUBJECT)]
    merged = rows.merge(labels[[SUBJECT, LABEL_TIME, LABEL, LABEL_ID]], on=SUBJECT, how="inner")
    joinable = merged[
        (merged[LABEL_TIME] >= merged[TIME] - early) & (merged[LABEL_TIME] <= merged[TIME] + late)
    ]
    latest = joinable.sort_values([SUBJECT, LABEL_TIME, LABEL_ID], kind="stable").drop_duplicates(
        SUBJECT, keep="last"
    )
    ordered = latest.sort_values([TIME, SUBJECT], kind="stable", ignore_index=True)
    return ordered[[TIME, LABEL, SUBJECT, *features]]
