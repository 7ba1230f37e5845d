"""The registry's use cases: apply a spec, register a training result, promote, roll back.

Each verb reads and writes through the store, asks the pure policy, and returns the lifecycle
events to publish (the caller publishes them). Events are rebuilt from the stored records, with
deterministic ids, so a retried request or a redelivered training result publishes the same
events again instead of registering or promoting twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from driftloop_contracts import PerformanceReported, TrainingCompleted
from driftloop_registry.errors import ConflictError, NotFoundError, UnprocessableError
from driftloop_registry.lifecycle import alias_event, registered_event, spec_event
from driftloop_registry.policy import (
    AliasMove,
    Decision,
    PromotionPolicy,
    decide_after_shadow,
    decide_promotion,
    rollback_target,
)
from driftloop_registry.store import AliasConflictError, RegistryStore
from driftloop_runtime import Outgoing, traced
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec, higher_is_better

__all__ = ["ArtifactCheck", "Registry", "SpecApplication", "policy_of"]

ServingAlias = Literal["champion", "shadow"]
ArtifactCheck = Callable[[TrainingCompleted], Awaitable[None]]
"""Verifies a training result's artifact is stored with its digest; raises if not."""


MoveKind = Literal["promote", "rollback", "retire"]
_EVENT_NAMES: dict[MoveKind, str] = {
    "promote": "promoted",
    "rollback": "rolled_back",
    "retire": "retired",
}


def _stages(
    kind: MoveKind, alias: ServingAlias, version: int, previous: int | None, stage: str
) -> list[tuple[int, str]]:
    """The stage changes an alias move makes: (version, new stage) pairs."""
    if kind == "retire":  # a shadow promoted to champion stays champion
        return [(version, "archived")] if stage == "shadow" else []
    retired = [(previous, "archived")] if previous is not None and alias == "champion" else []
    return [(version, alias), *retired]


@dataclass(frozen=True)
class SpecApplication:
    """The outcome of applying a spec: the stored version, whether it is new, what to publish."""

    record: Document
    created: bool
    events: list[Outgoing]


def policy_of(spec: DatasetSpec) -> PromotionPolicy:
    """The promotion policy a dataset spec declares."""
    promotion = spec.promotion
    return PromotionPolicy(
        metric=promotion.metric,
        higher_is_better=higher_is_better(promotion.metric),
        min_improvement=promotion.min_improvement,
        mode=promotion.mode,
        shadow_events=promotion.shadow_events,
    )


class Registry:
    """driftloop's registry of specs, model versions, runs, aliases and audit."""

    def __init__(
        self,
        store: RegistryStore,
        check_artifact: ArtifactCheck,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Work on ``store``; ``check_artifact`` vouches for a training result's artifact."""
        self._store = store
        self._check_artifact = check_artifact
        self._now = clock

    @traced("registry.apply_spec")
    async def apply_spec(self, spec: DatasetSpec, actor: str) -> SpecApplication:
        """Store ``spec`` as a new version, unless it equals the newest (then nothing changes)."""
        latest = await self._store.latest_spec(spec.name)
        digest = spec.digest()
        if latest is not None and latest["digest"] == digest:
            return SpecApplication(latest, created=False, events=[])
        record = {
            "name": spec.name,
            "version": (latest["version"] + 1) if latest else 1,
            "digest": digest,
            "document": spec.to_document(),
            "applied_at": self._now(),
            "applied_by": actor,
        }
        if not await self._store.insert_spec(record):
            raise ConflictError(f"spec {spec.name} was applied concurrently; apply it again")
        await self._audit(
            actor,
            "spec.apply",
            f"spec:{spec.name}",
            f"applied version {record['version']}",
            {"digest": digest},
        )
        return SpecApplication(record, created=True, events=[spec_event(record)])

    @traced("registry.register_training")
    async def register_training(self, result: TrainingCompleted) -> list[Outgoing]:
        """Record a training run; register its model version and apply the promotion policy."""
        await self._store.upsert_run(self._run_record(result))
        if result.status == "failed":
            return []
        version = await self._store.version_of_run(result.model_name, result.run_id)
        if version is None:
            version = await self._register(result)
        if not version["decision_applied"]:  # also after a crash between register and apply
            await self._apply_decision(version)
        return [registered_event(version), *await self._decision_events(version)]

    @traced("registry.promote")
    async def promote(
        self,
        name: str,
        version: int,
        alias: ServingAlias,
        *,
        actor: str,
        reason: str,
        expected_revision: int | None = None,
        causation_id: str | None = None,
        evidence: dict[str, float] | None = None,
    ) -> list[Outgoing]:
        """Point ``alias`` at ``version``; refuse if the alias moved since ``expected_revision``.

        A shadow version promoted to champion leaves the shadow alias (one more event).
        """
        record = await self._version(name, version)
        current = await self._store.alias(name, alias)
        if current is not None and current["version"] == version:
            raise ConflictError(f"version {version} of {name} is already the {alias}")
        move = await self._move(
            record,
            alias,
            "promote",
            actor=actor,
            reason=reason,
            current=current,
            evidence=evidence,
            expected_revision=expected_revision,
            causation_id=causation_id,
        )
        events = [alias_event(move, record)]
        shadow = await self._store.alias(name, "shadow")
        if alias == "champion" and shadow is not None and shadow["version"] == version:
            record = await self._version(name, version)  # now in the champion stage
            retired = await self._move(
                record,
                "shadow",
                "retire",
                actor=actor,
                reason=f"promoted to champion: {reason}",
                current=shadow,
                evidence=evidence,
                causation_id=causation_id,
            )
            events.append(alias_event(retired, record))
        return events

    @traced("registry.retire")
    async def retire(
        self,
        name: str,
        version: int,
        *,
        actor: str,
        reason: str,
        causation_id: str | None = None,
        evidence: dict[str, float] | None = None,
    ) -> Outgoing:
        """End the shadow run of ``version``: it leaves the shadow alias and is archived."""
        record = await self._version(name, version)
        shadow = await self._store.alias(name, "shadow")
        if shadow is None or shadow["version"] != version:
            raise ConflictError(f"version {version} of {name} is not the shadow")
        move = await self._move(
            record,
            "shadow",
            "retire",
            actor=actor,
            reason=reason,
            current=shadow,
            evidence=evidence,
            causation_id=causation_id,
        )
        return alias_event(move, record)

    @traced("registry.review_shadow")
    async def review_shadow(self, report: PerformanceReported) -> list[Outgoing]:
        """Count a performance report towards the shadow it compares, and once the shadow has
        scored the policy's number of events, promote it or retire it on its live metrics."""
        model = await self._store.model_of_dataset(report.dataset)
        if report.shadow is None or model is None:
            return []
        name, version = model["name"], report.shadow.model_version
        if done := await self._events_caused_by(name, report.event_id):
            return done  # a redelivered report: the decision was taken already
        shadow = await self._store.alias(name, "shadow")
        if shadow is None or shadow["version"] != version:
            return []  # about a shadow run that has ended
        record = await self._version(name, version)
        await self._store.record_shadow_report(
            {
                "report_event_id": report.event_id,
                "name": name,
                "version": version,
                "events": report.window.size,
                "metrics": report.shadow.metrics,
                "champion_metrics": report.metrics,
                "at": report.occurred_at,
            }
        )
        scored = await self._store.shadow_events(name, version)
        spec = await self._store.spec(record["dataset"], record["spec_version"])
        if spec is None:
            raise UnprocessableError(f"spec version {record['spec_version']} is missing")
        policy = policy_of(DatasetSpec.from_document(spec["document"]))
        decision = decide_after_shadow(policy, report.shadow.metrics, report.metrics, scored)
        evidence = {**decision.evidence, "events_scored": float(scored)}
        reason = f"after {scored} shadow-scored events: {decision.reason}"
        if decision.action == "promote":
            return await self.promote(
                name,
                version,
                "champion",
                actor="registry",
                reason=reason,
                causation_id=report.event_id,
                evidence=evidence,
            )
        if decision.action == "reject":
            return [
                await self.retire(
                    name,
                    version,
                    actor="registry",
                    reason=reason,
                    causation_id=report.event_id,
                    evidence=evidence,
                )
            ]
        return []

    @traced("registry.rollback")
    async def rollback(
        self, name: str, *, actor: str, reason: str, alias: ServingAlias = "champion"
    ) -> Outgoing:
        """Give ``alias`` back to the version that held it before the current one."""
        history = await self._store.alias_history(name, alias)
        target = rollback_target([AliasMove(m["kind"], m["version"]) for m in history])
        if target is None:
            raise ConflictError(f"{name} has no earlier {alias} to roll back to")
        record = await self._version(name, target)
        current = await self._store.alias(name, alias)
        move = await self._move(
            record, alias, "rollback", actor=actor, reason=reason, current=current
        )
        return alias_event(move, record)

    async def _events_caused_by(self, name: str, causation_id: str) -> list[Outgoing]:
        """The lifecycle events already caused by ``causation_id``, rebuilt from the history."""
        moves = [
            m
            for m in await self._store.alias_history(name)
            if m.get("causation_id") == causation_id
        ]
        return [alias_event(m, await self._version(name, m["version"])) for m in moves]

    async def _register(self, result: TrainingCompleted) -> Document:
        await self._check_artifact(result)
        spec = await self._store.spec(result.dataset, result.spec_version)
        if spec is None:
            raise UnprocessableError(
                f"training run {result.run_id} used spec version {result.spec_version} of "
                f"{result.dataset}, which the registry does not have"
            )
        decision = await self._decide(result, DatasetSpec.from_document(spec["document"]))
        await self._store.ensure_model(result.model_name, result.dataset, self._now())
        record = self._version_record(result, decision)
        record["version"] = await self._store.next_version(result.model_name)
        while not await self._store.insert_version(record):
            existing = await self._store.version_of_run(result.model_name, result.run_id)
            if existing is not None:
                return existing  # a concurrent delivery of the same result registered it
            record["version"] = await self._store.next_version(result.model_name)
        await self._store.insert_lineage(self._lineage_record(result, record))
        await self._audit(
            "registry",
            "version.register",
            f"model:{record['name']}:{record['version']}",
            f"{decision.action}: {decision.reason}",
            decision.evidence,
        )
        return record

    async def _decide(self, result: TrainingCompleted, spec: DatasetSpec) -> Decision:
        champion = await self._store.alias(result.model_name, "champion")
        if champion is not None and champion["version"] != result.champion_version:
            return Decision(
                "hold",
                f"the champion changed to version {champion['version']} "
                f"after the run compared against {result.champion_version}",
            )
        champion_metrics = result.champion_metrics if champion is not None else None
        return decide_promotion(policy_of(spec), result.metrics, champion_metrics)

    async def _apply_decision(self, record: Document) -> None:
        decision = record["decision"]
        name, version = record["name"], record["version"]
        serving: dict[str, ServingAlias] = {"promote": "champion", "shadow": "shadow"}
        alias = serving.get(decision["action"])
        current = await self._store.alias(name, alias) if alias else None
        if alias is not None and (current is None or current["version"] != version):
            await self._move(
                record,
                alias,
                "promote",
                actor="registry",
                reason=decision["reason"],
                evidence=decision["evidence"],
                current=current,
                causation_id=f"model.registered:{name}:{version}",
            )
        elif decision["action"] == "reject":
            await self._store.set_stage(name, version, "archived")
        await self._store.mark_decision_applied(name, version)

    async def _decision_events(self, version: Document) -> list[Outgoing]:
        caused_by = f"model.registered:{version['name']}:{version['version']}"
        return await self._events_caused_by(version["name"], caused_by)

    async def _move(
        self,
        record: Document,
        alias: ServingAlias,
        kind: MoveKind,
        *,
        actor: str,
        reason: str,
        current: Document | None,
        evidence: dict[str, float] | None = None,
        expected_revision: int | None = None,
        causation_id: str | None = None,
    ) -> Document:
        """Move ``alias`` to ``record``'s version in one transaction (pointer, history, stages,
        audit); ``evidence`` defaults to the version's own metrics."""
        evidence = record["metrics"] if evidence is None else evidence
        revision = (
            expected_revision
            if expected_revision is not None
            else (current["revision"] if current else 0)
        )
        previous = current["version"] if current else None
        name, version = record["name"], record["version"]
        move = {
            "name": name,
            "alias": alias,
            "version": version,
            "previous_version": previous,
            "kind": kind,
            "actor": actor,
            "reason": reason,
            "evidence": evidence,
            "at": self._now(),
            "causation_id": causation_id,
            "event_id": f"model.{_EVENT_NAMES[kind]}:{name}:{version}:{alias}:{revision + 1}",
        }
        try:
            async with self._store.client_session() as session, await session.start_transaction():
                await self._store.move_alias(move, expected_revision=revision, session=session)
                for staged, stage in _stages(kind, alias, version, previous, record["stage"]):
                    await self._store.set_stage(name, staged, stage, session=session)
                await self._audit(
                    actor,
                    f"alias.{kind}",
                    f"model:{name}:{version}",
                    f"{alias}: {reason}",
                    evidence,
                    session=session,
                )
        except AliasConflictError as error:
            raise ConflictError(f"{error}; reload and try again") from error
        return move

    async def _version(self, name: str, version: int) -> Document:
        record = await self._store.version(name, version)
        if record is None:
            raise NotFoundError(f"model {name} has no version {version}")
        return record

    async def _audit(
        self,
        actor: str,
        action: str,
        target: str,
        detail: str,
        evidence: dict[str, Any],
        session: Any = None,
    ) -> None:
        await self._store.append_audit(
            {
                "at": self._now(),
                "actor": actor,
                "action": action,
                "target": target,
                "detail": detail,
                "evidence": evidence,
            },
            session=session,
        )

    def _run_record(self, result: TrainingCompleted) -> Document:
        return {
            "run_id": result.run_id,
            "dataset": result.dataset,
            "model_name": result.model_name,
            "status": result.status,
            "failure_reason": result.failure_reason,
            "spec_version": result.spec_version,
            "params": result.params,
            "metrics": result.metrics,
            "champion_version": result.champion_version,
            "champion_metrics": result.champion_metrics,
            "data_window": _plain(result.data_window),
            "finished_at": result.occurred_at,
            "recorded_at": self._now(),
            "training_event_id": result.event_id,
        }

    def _version_record(self, result: TrainingCompleted, decision: Decision) -> Document:
        assert result.artifact is not None  # a succeeded result has one (its contract says so)
        return {
            "name": result.model_name,
            "dataset": result.dataset,
            "run_id": result.run_id,
            "spec_version": result.spec_version,
            "artifact": _plain(result.artifact),
            "metrics": result.metrics,
            "champion_version": result.champion_version,
            "champion_metrics": result.champion_metrics,
            "stage": "candidate",
            "decision": {
                "action": decision.action,
                "reason": decision.reason,
                "evidence": decision.evidence,
            },
            "decision_applied": False,
            "created_at": self._now(),
            "training_event_id": result.event_id,
        }

    def _lineage_record(self, result: TrainingCompleted, version: Document) -> Document:
        return {
            "name": version["name"],
            "version": version["version"],
            "dataset": result.dataset,
            "spec_version": result.spec_version,
            "run_id": result.run_id,
            "training_event_id": result.event_id,
            "trigger_event_id": result.causation_id,
            "data_window": _plain(result.data_window),
            "reference": {k: _plain(v) for k, v in result.reference.items()},
            "evaluation": {
                "metrics": result.metrics,
                "champion_version": result.champion_version,
                "champion_metrics": result.champion_metrics,
            },
            "parent_version": result.champion_version,
        }


def _plain(model: Any) -> Any:
    return model.model_dump(mode="python") if model is not None else None
