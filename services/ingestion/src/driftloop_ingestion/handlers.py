"""Kafka handlers: a batch of raw events in, validated events and dead letters out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from driftloop_ingestion.lanes import E, Lane
from driftloop_runtime import BatchHandler, BatchResult, Incoming, Outgoing, Rejection

__all__ = ["on_raw_events"]

logger = logging.getLogger(__name__)


def on_raw_events(lane: Lane[E]) -> BatchHandler[E]:
    """The batch handler of a raw topic: judge each event, publish the valid ones once."""

    async def handle(batch: Sequence[Incoming[E]]) -> BatchResult:
        taken: set[str] = set()  # accepted in this batch, not yet published
        outputs: list[Outgoing] = []
        rejections: list[Rejection] = []
        for item in batch:
            event_id = item.event.event_id
            duplicate = event_id in taken or event_id in lane.seen
            judgement = lane.judge(item.event, len(item.source.value), duplicate=duplicate)
            lane.count(item.event, judgement)
            if judgement.status == "accepted":
                taken.add(event_id)
                outputs.append(lane.validated(item.event, judgement, item.source))
            elif judgement.status == "rejected":
                reason, error_type = judgement.verdict.reason, judgement.verdict.error_type
                rejections.append(Rejection(item.source, reason, error_type, event_id))
        if rejections or len(outputs) + len(rejections) < len(batch):
            logger.info(
                "%s: %d events, %d valid, %d rejected, %d duplicates",
                lane.topic,
                len(batch),
                len(outputs),
                len(rejections),
                len(batch) - len(outputs) - len(rejections),
            )
        return BatchResult(outputs=outputs, rejections=rejections)

    return handle
