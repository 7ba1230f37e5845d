"""A small synchronous client of the registry's REST API (``/v1``), with errors people can read.

Every failure comes out as a ``RegistryClientError`` whose message says what was attempted and
why it did not happen: the registry's own ``detail`` for a refused request, the network error
for one that never arrived. The transport is a parameter so tests can answer with
``httpx.MockTransport``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

__all__ = [
    "Alias",
    "RegistryClient",
    "RegistryClientError",
    "RegistryRefusedError",
    "RegistryUnreachableError",
]

Alias = Literal["champion", "shadow"]
JsonObject = dict[str, Any]


class RegistryClientError(Exception):
    """A call to the registry failed; the message is meant for a person."""


class RegistryUnreachableError(RegistryClientError):
    """The request did not get an answer (refused, unresolvable, timed out, cut off)."""


class RegistryRefusedError(RegistryClientError):
    """The registry answered with an error status (401, 403, 404, 409, 422, ...)."""

    def __init__(self, doing: str, status: int, detail: str) -> None:
        """Describe the refusal of ``doing`` with the API's ``detail``."""
        self.status = status
        self.detail = detail
        hint = " (check DRIFTLOOP_TOKEN or --token)" if status == 401 else ""
        super().__init__(f"cannot {doing}: {detail} (HTTP {status}){hint}")


class RegistryClient:
    """The registry's REST API, one method per operation the CLI offers."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Talk to the registry at ``base_url`` with bearer ``token``.

        Args:
            base_url: e.g. ``http://127.0.0.1:8410``.
            token: A viewer's token reads; an approver's also applies and promotes.
            timeout_s: Limit on connecting, and on each read and write, of one call.
            transport: Where requests go; the network unless given (tests pass a mock).
        """
        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={**headers, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # specs

    def apply_spec(self, text: str, source: str) -> JsonObject:
        """Apply a dataset spec (YAML text read from ``source``): name, version, created."""
        return self._object(
            "POST",
            "/v1/specs",
            f"apply {source}",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def specs(self) -> list[JsonObject]:
        """Every dataset with its newest spec version, digest and time applied."""
        return self._list("GET", "/v1/specs", "list the specs")

    def spec(self, name: str, version: int | None = None) -> JsonObject:
        """The newest (or a given) version of a dataset's spec, with its document."""
        if version is None:
            return self._object("GET", f"/v1/specs/{_seg(name)}", f"show spec {name}")
        path = f"/v1/specs/{_seg(name)}/versions/{version}"
        return self._object("GET", path, f"show spec {name} version {version}")

    # models

    def models(self) -> list[JsonObject]:
        """Every registered model with where its aliases point."""
        return self._list("GET", "/v1/models", "list the models")

    def versions(self, name: str) -> list[JsonObject]:
        """Every version of model ``name``, oldest first."""
        path = f"/v1/models/{_seg(name)}/versions"
        return self._list("GET", path, f"list the versions of model {name}")

    def version(self, name: str, version: int) -> JsonObject:
        """A model version with its metrics, decision and lineage."""
        path = f"/v1/models/{_seg(name)}/versions/{version}"
        return self._object("GET", path, f"show model {name} version {version}")

    def history(self, name: str) -> list[JsonObject]:
        """Every alias move of model ``name``, oldest first: who, why, when."""
        path = f"/v1/models/{_seg(name)}/history"
        return self._list("GET", path, f"show the alias history of model {name}")

    def promote(
        self,
        name: str,
        version: int,
        *,
        alias: Alias,
        reason: str,
        expected_revision: int | None = None,
    ) -> JsonObject:
        """Give ``version`` the ``alias``; the published ``model promoted`` event comes back."""
        body: JsonObject = {"alias": alias, "reason": reason}
        if expected_revision is not None:
            body["expected_revision"] = expected_revision
        path = f"/v1/models/{_seg(name)}/versions/{version}/promote"
        return self._object("POST", path, f"promote {name} version {version} to {alias}", json=body)

    def rollback(self, name: str, *, alias: Alias, reason: str) -> JsonObject:
        """Give ``alias`` back to its previous version; the ``model rolled back`` event."""
        body = {"alias": alias, "reason": reason}
        path = f"/v1/models/{_seg(name)}/rollback"
        return self._object("POST", path, f"roll back the {alias} of {name}", json=body)

    def retire(self, name: str, version: int, *, reason: str) -> JsonObject:
        """End the shadow run of ``version``; the ``model retired`` event comes back."""
        path = f"/v1/models/{_seg(name)}/versions/{version}/retire"
        return self._object(
            "POST", path, f"retire the shadow {name} version {version}", json={"reason": reason}
        )

    # runs

    def runs(self, dataset: str) -> list[JsonObject]:
        """The training runs of ``dataset``, newest first."""
        params = {"dataset": dataset}
        return self._list("GET", "/v1/runs", f"list the runs of {dataset}", params=params)

    def run(self, run_id: str) -> JsonObject:
        """Training run ``run_id``."""
        return self._object("GET", f"/v1/runs/{_seg(run_id)}", f"show run {run_id}")

    # plumbing

    def _object(self, method: str, path: str, doing: str, **kwargs: Any) -> JsonObject:
        body = self._call(method, path, doing, **kwargs)
        if not isinstance(body, dict):
            raise self._odd(doing, "a JSON object")
        return body

    def _list(self, method: str, path: str, doing: str, **kwargs: Any) -> list[JsonObject]:
        body = self._call(method, path, doing, **kwargs)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise self._odd(doing, "a JSON list of objects")
        return body

    def _call(self, method: str, path: str, doing: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            if isinstance(error, httpx.ConnectTimeout):
                raise self._unreachable(error) from None
            raise RegistryUnreachableError(
                f"the registry at {self.base_url} did not answer within {self._timeout_s:g}s "
                f"while trying to {doing}; it may or may not have done it"
            ) from None
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise self._unreachable(error) from None
        if response.is_error:
            raise RegistryRefusedError(doing, response.status_code, _detail(response))
        try:
            return response.json()
        except ValueError:
            raise self._odd(doing, "JSON") from None

    def _unreachable(self, error: Exception) -> RegistryUnreachableError:
        reason = str(error) or type(error).__name__
        return RegistryUnreachableError(
            f"cannot reach the registry at {self.base_url}: {reason} (is it running? "
            "`driftloop local up` starts one; DRIFTLOOP_REGISTRY_URL or --registry-url "
            "point elsewhere)"
        )

    def _odd(self, doing: str, expected: str) -> RegistryClientError:
        return RegistryClientError(
            f"cannot {doing}: the answer from {self.base_url} is not {expected} "
            "(is that URL the registry?)"
        )


def _seg(value: str) -> str:
    """``value`` as one URL path segment (a ``/`` in a name cannot reach another route)."""
    return quote(value, safe="")


def _detail(response: httpx.Response) -> str:
    """The API's ``detail`` as one line; FastAPI's validation errors joined per field."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail:
        return "; ".join(_problem(item) for item in detail)
    return response.text.strip()[:200] or response.reason_phrase or "no reason given"


def _problem(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = [str(part) for part in item.get("loc", [])][1:]  # drop "body", "path", "query"
    message = str(item.get("msg", "invalid"))
    return f"{'.'.join(where)}: {message}" if where else message
