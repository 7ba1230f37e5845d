"""The command groups that talk to the registry: ``spec``, ``models`` and ``runs``."""

from __future__ import annotations

from driftloop_cli.commands.models import models_app
from driftloop_cli.commands.runs import runs_app
from driftloop_cli.commands.spec import spec_app

__all__ = ["models_app", "runs_app", "spec_app"]
