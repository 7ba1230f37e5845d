"""The demo's own local stack: started fresh in the demo's home, watched, stopped whole."""

from __future__ import annotations

import shutil
from collections import deque
from pathlib import Path

import httpx

from driftloop_cli.demo.model import DemoError, StackSettings
from driftloop_cli.local import LocalStack
from driftloop_runtime import RuntimeSettings

__all__ = ["DemoStack", "log_tail"]

LOG_TAIL_LINES = 30
HEALTH_TIMEOUT_S = 5.0

# What a previous demo left in its home and the next one must not inherit: the store's files
# (the broker keeps nothing, so old model versions there would point at topics that are gone),
# the logs and the span files.
STALE = ("mongo", "logs", "traces")


class DemoStack:
    """A ``LocalStack`` in the demo's home; ``start`` refuses a home whose stack still runs."""

    def __init__(self, home: Path) -> None:
        """A stack under ``home`` (not started)."""
        self._stack = LocalStack(home)
        self.started = False

    def start(self) -> StackSettings:
        """Start broker, store and every installed service from a clean home."""
        if any(alive for _, alive in self._stack.status()):
            raise DemoError(
                f"a demo stack is still running in {self._stack.home} "
                f"(stop it with `driftloop local down --home {self._stack.home}`)"
            )
        for name in STALE:
            shutil.rmtree(self._stack.home / name, ignore_errors=True)
        try:
            env = self._stack.up()
        except (RuntimeError, FileNotFoundError) as error:
            raise DemoError(f"the local stack did not start: {error}") from error
        self.started = True
        return self.settings(env)

    def settings(self, env: dict[str, str]) -> StackSettings:
        """The stack's settings from what ``up`` returned (and wrote to ``local.env``)."""
        every = {**self._stack.env(), **env}
        bootstrap, uri = every["DRIFTLOOP_KAFKA_BOOTSTRAP"], every["DRIFTLOOP_MONGO_URI"]
        # The services read DRIFTLOOP_MONGO_DATABASE from the environment they inherit.
        runtime = RuntimeSettings(kafka_bootstrap=bootstrap, mongo_uri=uri)
        return StackSettings(bootstrap, uri, runtime.mongo_database, self._stack.home, every)

    def services(self) -> list[str]:
        """Names of the processes started (broker, store, services)."""
        return [info.name for info in self._stack.processes()]

    def check_alive(self) -> None:
        """Raise ``DemoError`` with the tail of its log when a started process has died."""
        for info, alive in self._stack.status():
            if not alive:
                raise DemoError(
                    f"{info.name} (pid {info.pid}) died; the end of {info.log}:\n"
                    + log_tail(Path(info.log))
                )

    async def check_health(self) -> None:
        """Raise ``DemoError`` when a service answers ``/healthz`` with 503: alive, but its
        loop stopped on an error (no answer in time is not taken as a failure: the machine may
        just be busy)."""
        env = self._stack.env()
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as http:
            for info in self._stack.processes():
                url = env.get(f"DRIFTLOOP_{info.name.upper()}_URL")
                if url is None:
                    continue  # the broker and the store
                try:
                    answer = await http.get(f"{url}/healthz")
                except httpx.HTTPError:
                    continue
                if answer.status_code == httpx.codes.SERVICE_UNAVAILABLE:
                    raise DemoError(
                        f"{info.name} is unhealthy ({answer.text}); the end of {info.log}:\n"
                        + log_tail(Path(info.log))
                    )

    def stop(self) -> None:
        """Stop every process this stack started (idempotent)."""
        if self.started:
            self._stack.down()
            self.started = False


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (or a note that it is missing)."""
    if not path.exists():
        return f"  ({path} does not exist)"
    with path.open(errors="replace") as log:
        return "".join(f"  {line}" for line in deque(log, maxlen=lines))
