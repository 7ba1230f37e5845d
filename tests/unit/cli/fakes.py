"""A fake registry API behind ``httpx.MockTransport``, and a way to run the CLI against it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from driftloop_cli.main import app

__all__ = ["FRAUD_SPEC", "TOKEN", "URL", "FakeRegistry", "Handler"]

URL = "http://registry.test"
TOKEN = "t0ken-for-the-unit-tests"
FRAUD_SPEC = Path(__file__).resolve().parents[3] / "specs" / "fraud.yaml"

Handler = Any  # httpx.Response, or an exception to raise


@dataclass
class FakeRegistry:
    """Answers (method, path) with what ``answer`` set; records every request it got."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def answer(self, method: str, path: str, status: int = 200, body: Any = None) -> None:
        """Answer ``method path`` with ``status`` and JSON ``body``."""
        self.routes[(method, path)] = httpx.Response(status, json=body)

    def fail(self, method: str, path: str, status: int, detail: Any) -> None:
        """Answer ``method path`` the way the API reports an error."""
        self.answer(method, path, status, {"detail": detail})

    def raise_(self, method: str, path: str, error: Exception) -> None:
        """Make ``method path`` raise ``error`` (a transport failure)."""
        self.routes[(method, path)] = error

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The transport's handler."""
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if isinstance(route, Exception):
            raise route
        return route if route is not None else httpx.Response(404, json={"detail": "Not Found"})

    @property
    def transport(self) -> httpx.MockTransport:
        """A transport that sends requests here."""
        return httpx.MockTransport(self.handle)

    @property
    def last(self) -> httpx.Request:
        """The last request received."""
        return self.requests[-1]

    def last_json(self) -> Any:
        """The JSON body of the last request."""
        return json.loads(self.last.content)

    def run(self, *args: str, url: str | None = URL, token: str | None = TOKEN) -> Result:
        """Run ``driftloop *args`` in-process against this fake (URL and token as options)."""
        options = [
            *(["--registry-url", url] if url else []),
            *(["--token", token] if token else []),
        ]
        return CliRunner().invoke(app, [*args, *options], obj=self.transport)
