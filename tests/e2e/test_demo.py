"""``driftloop demo`` end to end on the embedded stack: a short stream through all the installed
services, every live transaction predicted by the champion, the summary and the plot written,
and everything the demo started stopped again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftloop_cli.local import LocalStack
from driftloop_cli.local.infra import kafka_answers
from driftloop_cli.local.processes import is_alive, wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).parents[2]
DRIFTLOOP = str(Path(sys.executable).parent / "driftloop")
EVENTS, DRIFT_AT, HISTORY = 2_000, 1_000, 1_500


def test_the_demo_plays_a_short_stream_and_writes_its_summary_and_plot(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    plot, summary = tmp_path / "out" / "demo.png", tmp_path / "out" / "summary.json"
    command = [
        *(DRIFTLOOP, "demo"),
        *("--events", str(EVENTS), "--drift-at", str(DRIFT_AT), "--history", str(HISTORY)),
        *("--rate", "250", "--label-delay", "100", "--home", str(home)),
        *("--plot", str(plot), "--summary", str(summary)),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)

    assert done.returncode == 0, done.stdout[-3_000:] + done.stderr[-3_000:]
    assert f"events            {EVENTS:,} live ({EVENTS:,} predicted)" in done.stdout
    assert "drift onset       transaction 1,000" in done.stdout
    figures = json.loads(summary.read_text())
    assert (figures["events"], figures["predicted"], figures["change_at"]) == (
        EVENTS,
        EVENTS,
        DRIFT_AT,
    )
    assert figures["promoted"][0] == {"version": 1, "position": 0}  # served before the stream
    assert figures["registered"][0] == 1
    assert set(figures["latency_s"]) == {"p50", "p95", "p99"}
    assert figures["pre_change_level"] > 0.9  # v1 learnt the history's fraud pattern
    assert figures["rolling"][0]["version"] == 1
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # stopped what it started: nothing recorded, the broker gone
    env = dict(line.split("=", 1) for line in (home / "local.env").read_text().splitlines())
    assert LocalStack(home).processes() == []
    assert not kafka_answers(env["DRIFTLOOP_KAFKA_BOOTSTRAP"])


def test_ctrl_c_stops_every_process_the_demo_started(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    command = [DRIFTLOOP, "demo", "--events", "100000", "--rate", "50", "--home", str(home)]
    demo = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # local.json is written once the whole stack is up
        assert wait_until(lambda: (home / "local.json").exists(), timeout_s=300)
        started = LocalStack(home).processes()
        time.sleep(1.0)  # into the spec and the history, past the start
        demo.send_signal(signal.SIGINT)
        _, err = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, err
    assert b"interrupted; the stack it started is stopped" in err
    assert {p.name for p in started} >= {"broker", "store", "registry", "scorer", "trainer"}
    assert not [p.name for p in started if is_alive(p.pid)]
    assert not (home / "local.json").exists()
