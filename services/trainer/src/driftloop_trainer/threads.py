"""Running CPU-bound work off the event loop without holding the process at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

__all__ = ["in_daemon_thread", "with_model_threads"]

T = TypeVar("T")


async def in_daemon_thread(work: Callable[[], T], *, name: str = "trainer-work") -> T:
    """Run ``work`` in a daemon thread of its own and await its result, in the caller's context
    (so spans started inside are children of the current one).

    ``asyncio.to_thread`` would do, except that its executor's threads are joined when the loop
    shuts down: a SIGTERM during a long fit would then wait for the fit. A daemon thread is
    dropped at exit instead; an awaiting task that is cancelled stops waiting at once.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(deliver: Callable[[], None]) -> None:
        if not future.done():  # the awaiting task may have been cancelled meanwhile
            deliver()

    def run() -> None:
        deliver: Callable[[], None]
        try:
            result = context.run(work)
        except BaseException as caught:  # handed to the awaiting task, which re-raises it
            deliver = functools.partial(future.set_exception, caught)
        else:
            deliver = functools.partial(future.set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, deliver)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future


def with_model_threads(work: Callable[[], T], threads: int) -> Callable[[], T]:
    """``work`` with the thread pools its model uses (OpenMP, BLAS) capped at ``threads``, in
    the thread that runs it: with OpenMP's default, a gradient-boosting fit of a few thousand
    rows took 39 s on a busy 2-core machine, where one thread takes about a second."""

    def limited() -> T:
        with threadpool_limits(limits=threads):
            return work()

    return limited
