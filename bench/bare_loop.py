"""The bare aiokafka loop of ``bench.runtime_relay`` in a process of its own.

``bench.pipeline`` runs the services as processes of their own; it runs this ceiling the same
way, so that none of the three shares its process (and its core) with the benchmark's observer.

    python -m bench.bare_loop BOOTSTRAP SOURCE SINK EVENTS
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.runtime_relay import bare_loop

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="consume → loads → dumps → republish → commit")
    parser.add_argument("bootstrap", help="Kafka bootstrap servers")
    parser.add_argument("source", help="topic to consume (from the earliest offset)")
    parser.add_argument("sink", help="topic to republish to")
    parser.add_argument("events", type=int, help="stop after this many events")
    args = parser.parse_args(argv)
    options = {"bootstrap_servers": args.bootstrap}
    asyncio.run(bare_loop(options, args.source, args.sink, args.events))


if __name__ == "__main__":
    main(sys.argv[1:])
