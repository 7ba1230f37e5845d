"""``driftloop local``: start, inspect and stop the embedded stack, remembering what it started."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from driftloop_cli.local.infra import (
    broker_command,
    http_answers,
    kafka_answers,
    mongo_answers,
    store_command,
)
from driftloop_cli.local.processes import free_port, is_alive, spawn, stop, wait_until
from driftloop_cli.local.secrets import local_secrets
from driftloop_cli.topics import create_topics
from driftloop_runtime import RuntimeSettings

__all__ = ["SERVICE_ENTRY_POINTS", "LocalStack", "ProcessInfo", "StackError"]

SERVICE_ENTRY_POINTS = "driftloop.services"
"""Each service registers ``name = "its_package"`` here; ``local up`` runs it with ``-m``, gives
it ``DRIFTLOOP_HTTP_PORT`` and waits until its ``GET /healthz`` answers."""

READY_TIMEOUT_S = 60.0
PORT_ATTEMPTS = 3
"""How many ports the broker or the store is tried on before ``up`` gives up."""


class StackError(RuntimeError):
    """The local stack could not be started or is in an unexpected state."""


@dataclass(frozen=True)
class ProcessInfo:
    """One process the local stack started."""

    name: str
    pid: int
    log: str
    port: int | None = None
    command: list[str] = field(default_factory=list)


@dataclass
class LocalStack:
    """The embedded broker, store and services, with their state under ``home`` (``.driftloop``)."""

    home: Path = Path(".driftloop")

    @property
    def state_file(self) -> Path:
        """Where the started processes are recorded."""
        return self.home / "local.json"

    @property
    def env_file(self) -> Path:
        """The ``DRIFTLOOP_*`` settings that point a client at this stack."""
        return self.home / "local.env"

    def processes(self) -> list[ProcessInfo]:
        """The processes recorded as started (alive or not)."""
        if not self.state_file.exists():
            return []
        return [ProcessInfo(**item) for item in json.loads(self.state_file.read_text())]

    def env(self) -> dict[str, str]:
        """The settings written by ``up``, as a mapping."""
        lines = self.env_file.read_text().splitlines() if self.env_file.exists() else []
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def up(self, *, infra_only: bool = False) -> dict[str, str]:
        """Start broker and store on free loopback ports, create the topics, start the services.

        Returns the settings that point at them. On any failure, what was started is stopped.
        """
        if any(is_alive(p.pid) for p in self.processes()):
            raise StackError(
                f"already running (see {self.state_file}); `driftloop local down` first"
            )
        started: list[ProcessInfo] = []
        try:
            env = self._start_infra(started)
            if not infra_only:
                env |= self._start_services(started, env)
                self._write_env(env)
        except BaseException:
            self._stop_all(started)
            raise
        finally:
            self._save(started)
        return env

    def down(self) -> list[ProcessInfo]:
        """Stop every recorded process, services first; return them."""
        recorded = self.processes()
        self._stop_all(recorded)
        self.state_file.unlink(missing_ok=True)
        return recorded

    def status(self) -> list[tuple[ProcessInfo, bool]]:
        """Each recorded process and whether it is alive."""
        return [(p, is_alive(p.pid)) for p in self.processes()]

    def _start_infra(self, started: list[ProcessInfo]) -> dict[str, str]:
        kafka_port = self._start_listening(
            "broker", broker_command, lambda port: kafka_answers(f"127.0.0.1:{port}"), started
        )
        mongo_port = self._start_listening(
            "store",
            lambda port: store_command(port, self.home / "mongo"),
            lambda port: mongo_answers(f"mongodb://127.0.0.1:{port}"),
            started,
        )
        bootstrap, uri = f"127.0.0.1:{kafka_port}", f"mongodb://127.0.0.1:{mongo_port}"
        asyncio.run(create_topics(RuntimeSettings(kafka_bootstrap=bootstrap)))
        env = {"DRIFTLOOP_KAFKA_BOOTSTRAP": bootstrap, "DRIFTLOOP_MONGO_URI": uri}
        self._write_env(env)
        return env

    def _start_listening(
        self,
        name: str,
        command: Callable[[int], list[str]],
        answers: Callable[[int], bool],
        started: list[ProcessInfo],
    ) -> int:
        """Start ``name`` on a free port and wait until it answers; return the port. A free
        port can be taken by another process before ``name`` binds it (the process then exits),
        so a process that dies is started again on another port, ``PORT_ATTEMPTS`` times."""
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            info = self._spawn(name, command(port), port)
            settled = functools.partial(_answers_or_exited, answers, port, info.pid)
            ready = wait_until(settled, timeout_s=READY_TIMEOUT_S)
            if ready and is_alive(info.pid):
                started.append(info)
                return port
            stop(info.pid)
        raise StackError(f"{name} did not come up; see {info.log}")

    def _write_env(self, env: dict[str, str]) -> None:
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.env_file.chmod(0o600)  # it holds the local approver token

    def _await_ready(
        self, name: str, started: list[ProcessInfo], answers: Callable[[], bool]
    ) -> None:
        info = next(p for p in started if p.name == name)
        ready = wait_until(lambda: answers() or not is_alive(info.pid), timeout_s=READY_TIMEOUT_S)
        if not ready or not is_alive(info.pid):
            raise StackError(f"{name} did not come up; see {info.log}")

    def _start_services(self, started: list[ProcessInfo], env: dict[str, str]) -> dict[str, str]:
        """Start every installed service; return the settings that reach them."""
        secrets = local_secrets(self.home / "secrets.json")
        reach = {"DRIFTLOOP_TOKEN": secrets.approver_token}
        for name, module in services():
            port = free_port()
            service_env = {
                **env,
                **secrets.service_env(),
                "DRIFTLOOP_HTTP_PORT": str(port),
                "DRIFTLOOP_TRACES_FILE": str(self.home / "traces" / f"{name}.jsonl"),
            }
            started.append(self._spawn(name, [sys.executable, "-m", module], port, service_env))
            reach[f"DRIFTLOOP_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        for name, _ in services():
            url = f"{reach[f'DRIFTLOOP_{name.upper()}_URL']}/healthz"
            self._await_ready(name, started, functools.partial(http_answers, url))
        return reach

    def _spawn(
        self, name: str, command: list[str], port: int | None, env: dict[str, str] | None = None
    ) -> ProcessInfo:
        log = self.home / "logs" / f"{name}.log"
        process = spawn(command, log=log, env=env)
        return ProcessInfo(name=name, pid=process.pid, log=str(log), port=port, command=command)

    def _save(self, started: list[ProcessInfo]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        alive = [asdict(p) for p in started if is_alive(p.pid)]
        if alive:
            self.state_file.write_text(json.dumps(alive, indent=2))
        else:
            self.state_file.unlink(missing_ok=True)

    @staticmethod
    def _stop_all(processes: list[ProcessInfo]) -> None:
        for info in reversed(processes):
            stop(info.pid)


def services() -> list[tuple[str, str]]:
    """The installed services, as (name, module to run), in name order."""
    found = entry_points(group=SERVICE_ENTRY_POINTS)
    return sorted((ep.name, ep.value) for ep in found)


def _answers_or_exited(answers: Callable[[int], bool], port: int, pid: int) -> bool:
    return answers(port) or not is_alive(pid)
