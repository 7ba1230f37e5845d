"""Generated parts of ``contracts/README.md``: the topic table and the example messages.

The README is written by hand around marked blocks::

    <!-- BEGIN GENERATED: topics -->
    ...
    <!-- END GENERATED: topics -->

``update_readme`` rewrites what is between the markers of each block: ``topics`` (the table of
``TOPICS``) and ``example:<event_type>`` (that event's ``example()`` as JSON).
"""

from __future__ import annotations

import json
import re

from driftloop_contracts.registry import event_model
from driftloop_contracts.schemas import schema_filename
from driftloop_contracts.topics import TOPICS, topic_for

__all__ = ["render_block", "render_example", "render_topic_table", "update_readme"]

_BLOCK = re.compile(
    r"(?P<begin><!-- BEGIN GENERATED: (?P<name>[\w:.-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def render_topic_table() -> str:
    """Return the Markdown table of every topic in the registry."""
    rows = [
        "| Topic | Event (`event_type`) | Key | Partitions | Producers | Consumers | Schema |",
        "|---|---|---|---|---|---|---|",
    ]
    for topic in TOPICS:
        schema = schema_filename(topic.event)
        rows.append(
            f"| `{topic.name}` | `{topic.event.__name__}` (`{topic.event_type}`) | {topic.key} "
            f"| {topic.partitions} | {', '.join(topic.producers)} | {', '.join(topic.consumers)} "
            f"| [{schema}](schemas/{schema}) |"
        )
    return "\n".join(rows) + "\n"


def render_example(event_type: str) -> str:
    """Return an event's example as a fenced JSON block.

    Events that upstream systems publish are shown minimal (defaults left out), as an upstream
    publisher would send them; the others in full, as a consumer receives them.
    """
    model = event_model(event_type)
    upstream_only = topic_for(model).producers == ("upstream",)
    payload = model.example().model_dump(mode="json", exclude_defaults=upstream_only)
    return "```json\n" + json.dumps(payload, indent=2, ensure_ascii=False) + "\n```\n"


def render_block(name: str) -> str:
    """Return the generated content of the README block called ``name``.

    Raises:
        ValueError: If no generator is known for ``name``.
    """
    if name == "topics":
        return render_topic_table()
    if name.startswith("example:"):
        return render_example(name.removeprefix("example:"))
    raise ValueError(f"unknown generated README block {name!r}")


def update_readme(text: str) -> str:
    """Return ``text`` with every generated block rewritten from the registry."""
    return _BLOCK.sub(lambda m: m["begin"] + render_block(m["name"]) + m["end"], text)
