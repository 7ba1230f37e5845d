"""The registry's REST API, versioned under /v1 (OpenAPI at /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from driftloop_artifacts import (
    ArtifactError,
    ArtifactNotFoundError,
    ArtifactStore,
    artifact_id_from_uri,
)
from driftloop_registry.auth import requires
from driftloop_registry.errors import (
    ConflictError,
    NotFoundError,
    RegistryError,
    UnprocessableError,
)
from driftloop_registry.registry import Registry
from driftloop_registry.store import RegistryStore
from driftloop_runtime import EventPublisher
from driftloop_runtime.mongo import Document
from driftloop_spec import SpecError, parse_spec

__all__ = ["install_api"]

Viewer = Annotated[str, Depends(requires("viewer"))]
Approver = Annotated[str, Depends(requires("approver"))]
Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
VersionNumber = Annotated[int, Path(ge=1)]

router = APIRouter(prefix="/v1")


class PromoteRequest(BaseModel):
    """Give a model version a serving alias."""

    model_config = ConfigDict(extra="forbid")
    alias: Literal["champion", "shadow"] = "champion"
    reason: str = Field(min_length=1, max_length=2000, description="Why, for the audit trail.")
    expected_revision: int | None = Field(
        None, ge=0, description="Fail with 409 unless the alias is still at this revision."
    )


class RollbackRequest(BaseModel):
    """Give the alias back to the version that held it before."""

    model_config = ConfigDict(extra="forbid")
    alias: Literal["champion", "shadow"] = "champion"
    reason: str = Field(min_length=1, max_length=2000, description="Why, for the audit trail.")


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _store(request: Request) -> RegistryStore:
    store: RegistryStore = request.app.state.store
    return store


async def _publish(request: Request, *events: Any) -> None:
    publisher: EventPublisher = request.app.state.publisher
    await publisher.publish(list(events))


def _found(document: Document | None, what: str) -> Document:
    if document is None:
        raise NotFoundError(f"{what} does not exist")
    return document


@router.post("/specs", status_code=status.HTTP_201_CREATED, tags=["specs"])
async def apply_spec(
    request: Request,
    response: Response,
    actor: Approver,
    text: Annotated[
        str, Body(media_type="application/yaml", description="The dataset spec, as YAML.")
    ],
) -> dict[str, Any]:
    """Apply a dataset spec: a changed spec becomes a new version; the same spec changes nothing."""
    try:
        spec = parse_spec(text, source="request body")
    except SpecError as error:
        raise UnprocessableError(str(error)) from error
    applied = await _registry(request).apply_spec(spec, actor)
    await _publish(request, *applied.events)
    record = applied.record
    if not applied.created:
        response.status_code = status.HTTP_200_OK
    return {
        "name": record["name"],
        "version": record["version"],
        "digest": record["digest"],
        "created": applied.created,
        "message": f"applied as version {record['version']}"
        if applied.created
        else f"unchanged: identical to version {record['version']}",
    }


@router.get("/specs", tags=["specs"])
async def list_specs(request: Request, _: Viewer) -> list[Document]:
    """Every dataset with its newest spec version."""
    return await _store(request).datasets()


@router.get("/specs/{name}", tags=["specs"])
async def get_spec(request: Request, _: Viewer, name: Name) -> Document:
    """The newest version of a dataset's spec, with its document."""
    return _found(await _store(request).latest_spec(name), f"spec {name}")


@router.get("/specs/{name}/versions", tags=["specs"])
async def list_spec_versions(request: Request, _: Viewer, name: Name) -> list[Document]:
    """Every version of a dataset's spec."""
    versions = await _store(request).spec_versions(name)
    if not versions:
        raise NotFoundError(f"spec {name} does not exist")
    return versions


@router.get("/specs/{name}/versions/{version}", tags=["specs"])
async def get_spec_version(
    request: Request, _: Viewer, name: Name, version: VersionNumber
) -> Document:
    """One version of a dataset's spec."""
    return _found(await _store(request).spec(name, version), f"spec {name} version {version}")


@router.get("/models", tags=["models"])
async def list_models(request: Request, _: Viewer) -> list[Document]:
    """Every registered model with where its aliases point."""
    store = _store(request)
    return [
        {**model, "aliases": _aliases(await store.aliases(model["name"]))}
        for model in await store.models()
    ]


@router.get("/models/{name}", tags=["models"])
async def get_model(request: Request, _: Viewer, name: Name) -> Document:
    """A registered model, its aliases and its versions."""
    store = _store(request)
    model = _found(await store.model(name), f"model {name}")
    return {
        **model,
        "aliases": _aliases(await store.aliases(name)),
        "versions": await store.versions(name),
    }


@router.get("/models/{name}/versions", tags=["models"])
async def list_versions(request: Request, _: Viewer, name: Name) -> list[Document]:
    """Every version of a model, with its metrics and stage."""
    _found(await _store(request).model(name), f"model {name}")
    return await _store(request).versions(name)


@router.get("/models/{name}/versions/{version}", tags=["models"])
async def get_version(request: Request, _: Viewer, name: Name, version: VersionNumber) -> Document:
    """A model version with its metrics, decision and lineage."""
    store = _store(request)
    record = _found(await store.version(name, version), f"model {name} version {version}")
    return {**record, "lineage": await store.lineage(name, version)}


@router.get("/models/{name}/champion", tags=["models"])
async def get_champion(
    request: Request,
    _: Viewer,
    name: Name,
    at: Annotated[
        AwareDatetime | None, Query(description="RFC 3339 time; which version served then")
    ] = None,
) -> Document:
    """The champion now, or the one that served at time ``at``."""
    store = _store(request)
    _found(await store.model(name), f"model {name}")
    if at is None:
        pointer = _found(await store.alias(name, "champion"), f"a champion of {name}")
        return {"name": name, "version": pointer["version"], "since": pointer["updated_at"]}
    move = _found(await store.alias_at(name, "champion", at), f"a champion of {name} at {at}")
    return {
        "name": name,
        "version": move["version"],
        "since": move["at"],
        "at": at,
        "by": move["actor"],
        "reason": move["reason"],
    }


@router.get("/models/{name}/history", tags=["models"])
async def alias_history(request: Request, _: Viewer, name: Name) -> list[Document]:
    """Every alias move of a model, oldest first: who, why, on what evidence, when."""
    return await _store(request).alias_history(name)


@router.post("/models/{name}/versions/{version}/promote", tags=["models"])
async def promote(
    request: Request, actor: Approver, name: Name, version: VersionNumber, body: PromoteRequest
) -> Document:
    """Give a version the champion (or shadow) alias; 409 if another move came first."""
    events = await _registry(request).promote(
        name,
        version,
        body.alias,
        actor=actor,
        reason=body.reason,
        expected_revision=body.expected_revision,
    )
    await _publish(request, *events)
    return events[0].event.model_dump(mode="json")


class RetireRequest(BaseModel):
    """End a version's shadow run."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="Why, for the audit trail.")


@router.post("/models/{name}/versions/{version}/retire", tags=["models"])
async def retire(
    request: Request, actor: Approver, name: Name, version: VersionNumber, body: RetireRequest
) -> Document:
    """Take a version out of shadow serving (it is archived); 409 if it is not the shadow."""
    event = await _registry(request).retire(name, version, actor=actor, reason=body.reason)
    await _publish(request, event)
    return event.event.model_dump(mode="json")


@router.post("/models/{name}/rollback", tags=["models"])
async def rollback(
    request: Request, actor: Approver, name: Name, body: RollbackRequest
) -> Document:
    """Give the alias back to the version that held it before the current one."""
    event = await _registry(request).rollback(
        name, actor=actor, reason=body.reason, alias=body.alias
    )
    await _publish(request, event)
    return event.event.model_dump(mode="json")


@router.get("/models/{name}/versions/{version}/artifact", tags=["models"])
async def download_artifact(
    request: Request, _: Viewer, name: Name, version: VersionNumber
) -> StreamingResponse:
    """The version's artifact bytes, streamed; its SHA-256 in ``X-Artifact-SHA256``."""
    record = _found(await _store(request).version(name, version), f"model {name} version {version}")
    artifacts: ArtifactStore = request.app.state.artifacts
    stream = await artifacts.open_stream(artifact_id_from_uri(record["artifact"]["uri"]))
    info = stream.info
    # The stream checks the digest as it ends and aborts the download on a mismatch; the
    # header lets the client check it too.
    return StreamingResponse(
        stream.chunks,
        media_type="application/octet-stream",
        headers={
            "X-Artifact-SHA256": info.sha256,
            "X-Artifact-Format": info.format,
            "Content-Length": str(info.size),
            "Content-Disposition": f'attachment; filename="{name}-{version}.{info.format}"',
        },
    )


@router.get("/runs", tags=["runs"])
async def list_runs(
    request: Request, _: Viewer, dataset: Annotated[str | None, Query(max_length=63)] = None
) -> list[Document]:
    """Training runs, newest first: parameters, metrics, data window, outcome."""
    return await _store(request).runs(dataset)


@router.get("/runs/{run_id}", tags=["runs"])
async def get_run(request: Request, _: Viewer, run_id: Name) -> Document:
    """One training run."""
    return _found(await _store(request).run(run_id), f"run {run_id}")


@router.get("/audit", tags=["audit"])
async def list_audit(
    request: Request,
    _: Viewer,
    target: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Document]:
    """Audit entries, newest first, optionally for one target such as ``model:fraud:3``."""
    return await _store(request).audit(target, limit)


def _aliases(pointers: list[Document]) -> dict[str, Any]:
    return {
        p["alias"]: {"version": p["version"], "revision": p["revision"], "since": p["updated_at"]}
        for p in pointers
    }


_STATUS: dict[type[Exception], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    UnprocessableError: 422,
    ArtifactNotFoundError: 404,
    ArtifactError: 409,
}


async def _registry_error(request: Request, error: Exception) -> JSONResponse:
    code = next((c for kind, c in _STATUS.items() if isinstance(error, kind)), 400)
    return JSONResponse({"detail": str(error)}, status_code=code)


def install_api(app: FastAPI) -> None:
    """Mount the /v1 routes, the error mapping and a health probe on ``app``."""
    app.include_router(router)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(ArtifactError, _registry_error)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "time": datetime.now().astimezone().isoformat()}
