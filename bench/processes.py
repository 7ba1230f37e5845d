"""Processes a benchmark starts, timed as contenders, their CPU time and memory.

``timed_process`` is ``bench.runtime_relay.timed`` with a process as the contender: an observer
in this process counts the outputs from the contender's first to its N-th. Every process is
started in a session of its own and stopped by its id (``Processes.stop_all``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runtime_relay import Run, timed
from driftloop_cli.local.infra import http_answers
from driftloop_cli.local.processes import free_port, spawn, stop

__all__ = [
    "MACHINE",
    "PY_SPY",
    "Command",
    "CpuSampler",
    "Processes",
    "launch",
    "memory_of",
    "timed_process",
    "watch",
]

READY_TIMEOUT_S = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# for --profile: `uv pip install py-spy` (into the venv), or one on the PATH
PY_SPY = shutil.which("py-spy", path=Path(sys.executable).parent) or shutil.which("py-spy")


@dataclass
class Processes:
    """Every process this run started (besides the stack's), stopped by id at the end."""

    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    profile: Path | None = None  # where py-spy writes each contender's folded stacks
    profilers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def stop_all(self) -> None:
        for name in list(self.profilers):
            self.stop_profiler(name)
        for child in reversed(self.children.values()):
            if child.poll() is None:  # one that exited was reaped: its id may be another's now
                stop(child.pid)
        self.children.clear()

    def start_profiler(self, name: str) -> None:
        """py-spy, sampling ``name`` 100 times a second until ``stop_profiler``."""
        if self.profile is None:
            return
        self.profile.mkdir(parents=True, exist_ok=True)
        output = self.profile / f"{name}.folded"
        assert PY_SPY is not None, "checked by harness.run_session"
        command = [PY_SPY, "record", "--pid", str(self.children[name].pid), "--rate", "100"]
        command += ["--format", "raw", "--output", str(output)]
        self.profilers[name] = spawn(command, log=self.profile / f"{name}.py-spy.log")

    def stop_profiler(self, name: str) -> None:
        """Stop ``name``'s py-spy with SIGINT, on which it writes its samples."""
        profiler = self.profilers.pop(name, None)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(profiler.pid)

    def peak_memory(self, name: str) -> dict[str, float]:
        """VmHWM (the resident set's high-water mark) and VmRSS of a running process, in MiB."""
        return memory_of(self.children[name].pid)


def memory_of(pid: int) -> dict[str, float]:
    """VmHWM (the resident set's high-water mark) and VmRSS of running process ``pid``, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    kib = {
        name: int(value.split()[0])
        for name, _, value in (line.partition(":") for line in status)
        if name in ("VmHWM", "VmRSS")
    }
    return {
        "peak_rss_mib": round(kib["VmHWM"] / 1024, 1),
        "rss_mib": round(kib["VmRSS"] / 1024, 1),
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (``None`` once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # from field 3 (state) on: utime is 14, stime 15
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu_seconds() -> float:
    """CPU time the whole machine spent busy so far (every process, ours or not), from
    ``/proc/stat``: user, nice, system, irq, softirq and steal."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def cpu_stall_seconds() -> float | None:
    """How long, so far, some task on the machine waited for a core (the kernel's pressure
    stall information, ``/proc/pressure/cpu``); ``None`` where the kernel has none."""
    try:
        some = Path("/proc/pressure/cpu").read_text().split("\n", 1)[0]
    except OSError:
        return None
    return int(some.rsplit("total=", 1)[1]) / 1e6


MACHINE = ("machine", "others", "cpu_pressure")
"""Entries of ``CpuSampler.cores`` that are not processes of the run."""


@dataclass
class CpuSampler:
    """The CPU time of the broker, the store, this process (the observer) and the contenders,
    sampled every 0.2 s, to tell how many cores each used while a contender was counted; and
    of the whole machine (``machine``; ``others``: every process not of this run), with
    ``cpu_pressure``, the share of the time some task waited for a core: how shared they were."""

    fixed: dict[str, int]
    processes: Processes
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            running = self.processes.children.items()
            pids = {**self.fixed, **{n: c.pid for n, c in running if c.poll() is None}}
            cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
            cpu["machine"], cpu["cpu_pressure"] = machine_cpu_seconds(), cpu_stall_seconds()
            now = time.perf_counter()
            self.samples.append((now, {n: v for n, v in cpu.items() if v is not None}))
            await asyncio.sleep(0.2)

    def cores(self, start: float, end: float) -> dict[str, float]:
        """Cores each process used from ``start`` to ``end`` (between the samples inside)."""
        inside = [(at, cpu) for at, cpu in self.samples if start <= at <= end]
        used = {}
        for name in {name for _, cpu in inside for name in cpu}:
            seen = [(at, cpu[name]) for at, cpu in inside if name in cpu]
            if len(seen) >= 2 and seen[-1][0] > seen[0][0]:
                used[name] = round((seen[-1][1] - seen[0][1]) / (seen[-1][0] - seen[0][0]), 2)
        if "machine" in used:  # every other process on the machine: tests, other benchmarks
            ours = sum(cores for name, cores in used.items() if name not in MACHINE)
            used["others"] = round(max(0.0, used["machine"] - ours), 2)
        return dict(sorted(used.items()))

    def cores_of(self, run: Run, end: float) -> dict[str, float]:
        """Cores each process used while ``run`` (ended at ``end``) was counted."""
        return self.cores(end - run.steady_seconds, end)


@dataclass(frozen=True)
class Command:
    """A process to start: its name in the run, its arguments, its environment, its log."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path


def launch(processes: Processes, command: Command, *, profiled: bool = True) -> None:
    """Start ``command`` with a port of its own (``DRIFTLOOP_HTTP_PORT``); py-spy samples it
    (with --profile) unless it is not ``profiled``."""
    port = free_port()
    processes.ports[command.name] = port
    env = {**command.env, "DRIFTLOOP_HTTP_PORT": str(port)}
    processes.children[command.name] = spawn(command.argv, log=command.log, env=env)
    if profiled:
        processes.start_profiler(command.name)


async def watch(
    processes: Processes, command: Command, *, http: bool, timing: asyncio.Task[Any] | None
) -> None:
    """Return once ``command`` answers /healthz (``http``) or has exited cleanly; cancel
    ``timing`` and raise if it dies (or does not come up) first."""
    name, log = command.name, command.log
    child = processes.children[name]
    url = f"http://127.0.0.1:{processes.ports[name]}/healthz"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if http and await asyncio.to_thread(http_answers, url):
            return
        code = child.poll()
        if code == 0 and not http:
            return
        late = http and time.monotonic() > deadline
        if code is not None or late:
            if timing is not None:
                timing.cancel()
            tail = (await asyncio.to_thread(log.read_text))[-3000:]
            problem = "did not come up" if code is None else f"exited with {code}"
            raise RuntimeError(f"{name} {problem}:\n{tail}")
        if timing is not None and timing.done() and not http:
            return
        await asyncio.sleep(0.1)


async def timed_process(
    options: dict[str, Any],
    output: str,
    events: int,
    processes: Processes,
    command: Command,
    *,
    http: bool = True,
) -> tuple[Run, float]:
    """``runtime_relay.timed`` with a process as the contender: started once the observer is
    positioned, watched meanwhile. Returns once the observer counted N outputs and (``http``)
    the process answers: the run, and when (``perf_counter``) the N-th output was seen."""
    watchers: list[asyncio.Task[None]] = []

    async def start() -> None:
        launch(processes, command)
        watchers.append(asyncio.create_task(watch(processes, command, http=http, timing=timing)))

    timing = asyncio.create_task(timed(options, output, events, start))
    try:
        run = await timing
        ended = time.perf_counter()
    except asyncio.CancelledError:
        if watchers and watchers[0].done() and watchers[0].exception() is not None:
            await watchers[0]  # raises what went wrong
        raise
    processes.stop_profiler(command.name)
    await watchers[0]
    return run, ended
