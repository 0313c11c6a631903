"""The simulator's start and stop: a torn line closed, holdings across a restart, idle and signal stops, a bad config and a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.execution.simulator.harness import REPO_ROOT, TIMEOUT, Engine, intent, start_engine

__all__ = ["start_engine"]  # the fixture this module's tests use


def test_torn_last_line_is_closed_before_first_write(start_engine: Callable[..., Engine], tmp_path: Path):
    workdir = tmp_path / "engine"
    workdir.mkdir()
    (workdir / "events.jsonl").write_bytes(b'{"tag": "oi_old", "status": "Fil')
    engine = start_engine(workdir=workdir)

    content = engine.events_file.read_bytes()
    assert content.startswith(b'{"tag": "oi_old", "status": "Fil\n{"type": "engine"')
    assert engine.lines()[0]["status"] == "started"


def test_holdings_reflect_fills_and_survive_restart(start_engine: Callable[..., Engine], tmp_path: Path):
    workdir = tmp_path / "engine"
    first = start_engine(workdir=workdir, intent=intent("oi_h", "AAPL", 10), holdings_interval=0.2)
    assert next(line for line in first.lines() if line.get("type") == "holdings")["holdings"] == []
    fill = first.wait_status("oi_h", "Filled")[-1]

    def holdings_after_fill() -> list[dict[str, Any]]:
        lines = first.lines()
        filled_at = next(i for i, line in enumerate(lines) if line.get("status") == "Filled")
        return [line["holdings"] for line in lines[filled_at:] if line.get("type") == "holdings"]

    after = first.wait_for(holdings_after_fill, "a holdings line after the fill")[0]
    assert after == [{"symbol": "AAPL", "quantity": 10, "avg_price": fill["fill_price"]}]
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait_exit() == 0

    second = start_engine(workdir=workdir, run_id="r-test-2")
    started_holdings = [
        line for line in second.lines() if line.get("run_id") == "r-test-2" and line.get("type") == "holdings"
    ]
    assert started_holdings[0]["holdings"] == after


def test_idle_timeout_writes_stopped_line_and_exits_zero(start_engine: Callable[..., Engine]):
    engine = start_engine(intent=intent("oi_i", "AAPL", 1), idle_timeout=0.4)

    assert engine.wait_exit() == 0
    last = engine.lines()[-1]
    assert last["type"] == "engine" and last["status"] == "stopped" and last["reason"] == "idle"
    assert any(e["status"] == "Filled" for e in engine.events("oi_i"))  # idle only once nothing works


def test_sigterm_writes_stopped_line_and_exits_zero(start_engine: Callable[..., Engine]):
    engine = start_engine()
    engine.proc.send_signal(signal.SIGTERM)

    assert engine.wait_exit() == 0
    last = engine.lines()[-1]
    assert last["type"] == "engine" and last["status"] == "stopped" and last["reason"] == "signal"


def test_sigterm_leaves_working_orders_with_the_simulated_broker(start_engine: Callable[..., Engine]):
    # As IB keeps an account's open orders when LEAN stops: the next run reloads them (test_restart_reload.py).
    engine = start_engine(intent=intent("oi_open", "AAPL", 5, "LMT", 1.0))
    engine.wait_status("oi_open", "Submitted")
    engine.proc.send_signal(signal.SIGTERM)

    assert engine.wait_exit() == 0
    assert [e["status"] for e in engine.events("oi_open")] == ["Submitted"]
    kept = json.loads((engine.workdir / "simulator-orders.json").read_text())["orders"]
    assert [(o["symbol"], o["quantity"], o["limit_price"]) for o in kept] == [("AAPL", "5", 1.0)]


def run_to_exit(workdir: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Run a simulator that is expected to stop by itself right away."""
    (workdir / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "execution.simulator", "--config", str(workdir / "config.json")]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_bad_config_reports_error_line_and_fails(tmp_path: Path):
    events = tmp_path / "events.jsonl"
    config = {
        "parameters": {"events-file": str(events), "run-id": "r-bad"},
        "simulator": {"partial-fills": "x"},
    }
    done = run_to_exit(tmp_path, config)

    assert done.returncode == 2
    line = json.loads(events.read_text().splitlines()[-1])
    assert line["type"] == "engine" and line["status"] == "error" and "partial-fills" in line["message"]
    assert line["run_id"] == "r-bad" and "cannot load config" in line["message"]


def test_unexpected_failure_exits_one(tmp_path: Path):
    (tmp_path / "events.jsonl").mkdir()  # an events "file" that cannot be written
    config = {"parameters": {"events-file": "events.jsonl", "run-id": "r-crash"}, "simulator": {}}
    done = run_to_exit(tmp_path, config)

    assert done.returncode == 1
    assert "IsADirectoryError" in done.stderr


def test_sigint_writes_final_holdings_and_stopped_line(start_engine: Callable[..., Engine]):
    # LEAN's clean shutdown is SIGINT (Console.CancelKeyPress, Launcher/Program.cs 98 at Lean 24863901).
    engine = start_engine()
    engine.proc.send_signal(signal.SIGINT)

    assert engine.wait_exit() == 0
    last_two = engine.lines()[-2:]
    assert [line["type"] for line in last_two] == ["holdings", "engine"]
    assert last_two[1]["status"] == "stopped" and last_two[1]["signal"] == "SIGINT"
