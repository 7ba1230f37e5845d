"""Bearer-token authentication with two roles: viewers read, approvers also change state."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import HTTPException, Request, status

from driftloop_registry.config import TokenGrant

__all__ = ["Role", "authenticate", "requires"]

Role = Literal["viewer", "approver"]
_RANK: dict[Role, int] = {"viewer": 1, "approver": 2}


def authenticate(header: str | None, grants: Mapping[str, TokenGrant]) -> tuple[str, Role]:
    """The actor and role a ``Bearer`` header's token belongs to; 401 if none.

    Every grant is compared, in constant time, so the time taken does not tell which token
    came close.
    """
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _refuse(status.HTTP_401_UNAUTHORIZED, "missing bearer token (Authorization header)")
    match: tuple[str, Role] | None = None
    for actor, grant in grants.items():
        if hmac.compare_digest(token.encode(), grant.token.get_secret_value().encode()):
            match = (actor, grant.role)
    if match is None:
        raise _refuse(status.HTTP_401_UNAUTHORIZED, "unknown bearer token")
    return match


def requires(role: Role) -> Callable[[Request], Awaitable[str]]:
    """A FastAPI dependency that admits a token of ``role`` (or higher) and yields its actor."""

    async def admit(request: Request) -> str:
        grants: Mapping[str, TokenGrant] = request.app.state.settings.registry_tokens
        actor, granted = authenticate(request.headers.get("authorization"), grants)
        if _RANK[granted] < _RANK[role]:
            raise _refuse(
                status.HTTP_403_FORBIDDEN, f"{actor} has the {granted} role; this needs {role}"
            )
        return actor

    return admit


def _refuse(code: int, reason: str) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return HTTPException(status_code=code, detail=reason, headers=headers)
