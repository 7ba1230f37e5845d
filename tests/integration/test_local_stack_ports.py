"""The local stack starts its broker and store on another port when the one it chose was taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftloop_cli.local import LocalStack
from driftloop_cli.local import stack as stack_module
from driftloop_cli.local.processes import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another process holds (here: a listening socket of the test's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_taken_after_it_was_chosen_is_replaced(
    taken: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the broker and the store are each offered the taken port first, as if another process
    # had bound it between free_port() and their own bind
    offered = iter([taken, free_port(), taken, free_port()])
    monkeypatch.setattr(stack_module, "free_port", lambda: next(offered))
    stack = LocalStack(tmp_path)
    try:
        env = stack.up(infra_only=True)
    finally:
        stack.down()
    assert not env["DRIFTLOOP_KAFKA_BOOTSTRAP"].endswith(f":{taken}")
    assert not env["DRIFTLOOP_MONGO_URI"].endswith(f":{taken}")
