"""``run_demo``: start the demo's stack, apply the spec, publish the history, wait for the first
model, play the live stream while watching predictions and the loop, wait for the tail, stop."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from driftloop_cli.demo.downstream import Downstream, cancel
from driftloop_cli.demo.model import (
    DemoError,
    DemoOptions,
    DemoResult,
    StackHandle,
    StackSettings,
)
from driftloop_cli.demo.progress import Progress, Snapshot, choose_progress
from driftloop_cli.demo.quality import last_window, recall_at_fpr, roc_auc
from driftloop_cli.demo.stack import DemoStack
from driftloop_cli.demo.stream import Upstream, create_producer, pace
from driftloop_cli.registry_client import RegistryClient, RegistryClientError
from driftloop_cli.simulation import CardTransactions
from driftloop_runtime import RuntimeSettings

__all__ = ["interrupt_on_sigterm", "run_demo"]

TICK_S = 0.5  # progress refresh and liveness checks
HEALTH_EVERY_S = 5.0  # services' /healthz (in the background, never holding the stream)


def interrupt_on_sigterm() -> None:
    """Make SIGTERM interrupt the process as Ctrl-C does, so a ``run_demo`` in progress stops
    the stack it started (Python's default for SIGTERM ends the process on the spot and leaves
    the broker, the store and the services running)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def run_demo(options: DemoOptions, progress: Progress | None = None) -> DemoResult:
    """Play the demo; stop what it started unless ``options.keep_stack`` (then the result's
    ``stack_handle`` stops it). Raises ``DemoOptionsError`` for bad options and ``DemoError``
    when the loop did not complete."""
    options.validate()
    shown = progress or choose_progress(live=options.live, quiet=options.quiet)
    stack = DemoStack(options.home)
    try:
        shown.note(f"starting the local stack in {options.home} ...")
        settings = stack.start()
        shown.note(f"started: {', '.join(stack.services())}")
        result = asyncio.run(_Play(options, settings, stack, shown).run())
    except BaseException:
        stack.stop()
        raise
    finally:
        shown.close()
    if options.keep_stack:
        result.stack_handle = StackHandle(settings, stack.stop)
    else:
        stack.stop()
    return result


@dataclass
class _Play:
    options: DemoOptions
    stack_settings: StackSettings
    stack: DemoStack
    progress: Progress

    async def run(self) -> DemoResult:
        dataset = self._apply_spec()
        runtime = RuntimeSettings(
            kafka_bootstrap=self.stack_settings.bootstrap_servers,
            mongo_uri=self.stack_settings.mongo_uri,
        )
        transactions = CardTransactions(
            dataset=dataset, change_at=self._simulator_change_at(), seed=self.options.seed
        )
        self.upstream = Upstream(transactions, self.options.label_delay, create_producer(runtime))
        self.downstream = Downstream(
            runtime, dataset, self.upstream.positions, lambda: self.upstream.published
        )
        self.dataset, self.began = dataset, time.monotonic()
        self.health: asyncio.Future[None] | None = None
        self.next_health = self.began
        await self.upstream.start()
        watching = asyncio.create_task(self.downstream.run())
        try:
            return await self._play(watching)
        finally:
            if self.health is not None:
                self.health.cancel()
            await cancel(watching)
            await self.upstream.stop()

    async def _play(self, watching: asyncio.Task[None]) -> DemoResult:
        options = self.options
        self.phase = "history"
        self.progress.note(f"publishing {options.history:,} labelled transactions (history) ...")
        await self.upstream.publish_history(options.history)
        self.phase = "waiting for v1"
        self.progress.note("waiting for version 1: trained, promoted, served ...")
        await self._wait_for_first_model(watching)
        self.phase = "live"
        self.progress.note(f"playing {options.events:,} transactions at {options.rate:g}/s ...")
        started = time.time()
        await self._while_watching(watching, pace(self.upstream, options.events, options.rate))
        finished = time.time()
        await self.upstream.publish_remaining_outcomes()
        self.phase = "tail"
        complete = await self._wait_for_tail(watching)
        self._refresh()
        return DemoResult(
            options=options,
            stack=self.stack_settings,
            stream=self.upstream.stream,
            predictions=dict(self.downstream.predictions),
            loop_events=list(self.downstream.loop_events),
            started_at=started,
            finished_at=finished,
            complete=complete,
        )

    def _apply_spec(self) -> str:
        text = self.options.spec.read_text()
        env = self.stack_settings.env
        try:
            with RegistryClient(env["DRIFTLOOP_REGISTRY_URL"], env.get("DRIFTLOOP_TOKEN")) as api:
                api.apply_spec(text, str(self.options.spec))
        except (KeyError, RegistryClientError) as error:
            raise DemoError(f"could not apply {self.options.spec}: {error}") from error
        name: str = yaml.safe_load(text)["name"]
        self.progress.note(f"applied {self.options.spec} (dataset {name})")
        return name

    def _simulator_change_at(self) -> int | None:
        change = self.options.change_at
        return None if change is None else self.options.history + change

    async def _wait_for_first_model(self, watching: asyncio.Task[None]) -> None:
        timeout = self.options.first_model_timeout_s
        deadline = time.monotonic() + timeout
        while not await self._scorer_serves_champion():
            self._tick(watching)
            if time.monotonic() > deadline:
                raise DemoError(
                    f"no model was trained, promoted and served within {timeout:.0f} s; "
                    f"see the trainer's and registry's logs in {self.options.home / 'logs'}"
                )
            await asyncio.sleep(TICK_S)
        self._announce()
        self.progress.note(f"v{self.downstream.champion} is the champion and the scorer serves it")

    async def _scorer_serves_champion(self) -> bool:
        champion = self.downstream.champion
        url = self.stack_settings.env.get("DRIFTLOOP_SCORER_URL")
        if champion is None or url is None:
            return False
        try:
            async with httpx.AsyncClient(base_url=url, timeout=5) as http:
                served = (await http.get("/v1/models")).json().get(self.dataset) or {}
        except (httpx.HTTPError, ValueError):
            return False
        return (served.get("champion") or {}).get("version") == champion

    async def _while_watching(
        self, watching: asyncio.Task[None], work: Coroutine[Any, Any, None]
    ) -> None:
        playing = asyncio.ensure_future(work)
        try:
            while not playing.done():
                self._tick(watching)
                await asyncio.wait({playing}, timeout=TICK_S)
            playing.result()
        finally:
            playing.cancel()

    async def _wait_for_tail(self, watching: asyncio.Task[None]) -> bool:
        deadline = time.monotonic() + self.options.tail_timeout_s
        total = self.options.events
        while len(self.downstream.predictions) < total and time.monotonic() < deadline:
            self._tick(watching)
            await asyncio.sleep(TICK_S)
        missing = total - len(self.downstream.predictions)
        if missing:
            self.progress.note(f"{missing:,} transactions got no prediction in time")
        return missing == 0

    def _tick(self, watching: asyncio.Task[None]) -> None:
        """Refresh the progress, and fail fast when the watcher or a service died."""
        if watching.done():
            watching.result()
            raise DemoError("the downstream consumer stopped")
        self.stack.check_alive()
        if self.health is not None and self.health.done():
            self.health.result()  # raises DemoError when a service said it is unhealthy
            self.health = None
        if self.health is None and time.monotonic() >= self.next_health:
            self.next_health = time.monotonic() + HEALTH_EVERY_S
            self.health = asyncio.ensure_future(self.stack.check_health())
        self._announce()
        self._refresh()

    def _announce(self) -> None:
        seen = self.downstream.loop_events
        for item in seen[getattr(self, "_announced", 0) :]:
            self.progress.note(f"[{item.position:>7,}] {describe(item.kind, item.event)}")
        self._announced = len(seen)

    def _refresh(self) -> None:
        labels, scores = last_window(
            self.upstream.stream, self.downstream.predictions, self.options.window
        )
        down = self.downstream
        self.progress.update(
            Snapshot(
                phase=self.phase,
                events_in=self.upstream.published,
                events_total=self.options.events,
                predictions_out=len(down.predictions),
                champion=down.champion,
                roc_auc=roc_auc(labels, scores),
                recall=recall_at_fpr(labels, scores),
                drift_alarms=down.count("drift"),
                trainings=down.count("training"),
                promotions=down.count("promoted"),
                elapsed_s=time.monotonic() - self.began,
            )
        )


def describe(kind: str, event: object) -> str:
    """One line about a loop event, for people."""
    get = event.__getattribute__
    if kind == "drift":
        return (
            f"drift detected: {get('kind')} {get('signal')} by {get('detector')} "
            f"({get('statistic'):.3f} vs {get('threshold'):.3f}) on v{get('model_version')}"
        )
    if kind == "training":
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in sorted(get("metrics").items())[:2])
        return f"training {get('status')}: run {get('run_id')} {metrics}"
    if kind == "registered":
        return f"registered v{get('version')}"
    return f"promoted v{get('version')} to {get('alias')} ({get('reason')})"
