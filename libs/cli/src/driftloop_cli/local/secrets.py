"""Tokens and keys of the local stack: made once, kept under its home so restarts agree."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["LocalSecrets", "local_secrets"]


@dataclass(frozen=True)
class LocalSecrets:
    """The local registry's tokens and the artifact signing key."""

    approver_token: str
    viewer_token: str
    signing_key: str

    def service_env(self) -> dict[str, str]:
        """The ``DRIFTLOOP_*`` settings that hand these secrets to the services."""
        tokens = {
            "local-admin": {"token": self.approver_token, "role": "approver"},
            "local-viewer": {"token": self.viewer_token, "role": "viewer"},
        }
        return {
            "DRIFTLOOP_REGISTRY_TOKENS": json.dumps(tokens),
            "DRIFTLOOP_ARTIFACT_SIGNING_KEY": self.signing_key,
        }


def local_secrets(path: Path) -> LocalSecrets:
    """The secrets stored at ``path``, made and stored (readable by the owner only) if missing."""
    if path.exists():
        return LocalSecrets(**json.loads(path.read_text()))
    made = LocalSecrets(*(secrets.token_urlsafe(32) for _ in range(3)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(asdict(made)))
    return made
