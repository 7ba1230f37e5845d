"""A publisher that reports what the broker acknowledged, for de-duplication and counters."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from driftloop_runtime import EventPublisher, Outgoing

__all__ = ["ReportingPublisher"]


class ReportingPublisher:
    """Publishes through ``inner``, then hands the acknowledged events to ``on_published``."""

    def __init__(
        self, inner: EventPublisher, on_published: Callable[[Sequence[Outgoing]], None]
    ) -> None:
        self._inner = inner
        self._on_published = on_published

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        await self._inner.publish(outgoing)
        self._on_published(outgoing)
