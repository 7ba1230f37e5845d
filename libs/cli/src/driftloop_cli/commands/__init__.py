"""The command groups that talk to the registry (``spec``, ``models``, ``runs``) and to Kafka
(``deadletters``, ``train``), and to both (``lineage``)."""

from __future__ import annotations

from driftloop_cli.commands.deadletters import deadletters_app
from driftloop_cli.commands.demo import demo
from driftloop_cli.commands.lineage import lineage
from driftloop_cli.commands.models import models_app
from driftloop_cli.commands.runs import runs_app
from driftloop_cli.commands.spec import spec_app
from driftloop_cli.commands.trace import trace
from driftloop_cli.commands.training import train

__all__ = [
    "deadletters_app",
    "demo",
    "lineage",
    "models_app",
    "runs_app",
    "spec_app",
    "trace",
    "train",
]
