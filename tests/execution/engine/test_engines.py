"""The engine supervisor with the real simulator process: one engine per mode, start, command, stop."""

from __future__ import annotations

import json
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from execution.engine import process as engines
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def intent(tmp_path: Path, tag: str, quantity: int = 1) -> Path:
    path = engines.engine_dir("paper") / "intents" / f"{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "order_intent_id": tag,
                "symbol": "AAPL",
                "quantity": quantity,
                "order_type": "MKT",
                "limit_price": None,
            }
        )
    )
    return path


def command(tag: str) -> dict[str, Any]:
    return engines.order_command(
        command_id=engines.command_id_for(tag),
        symbol="AAPL",
        quantity=1,
        order_type="MKT",
        limit_price=None,
        tag=tag,
    )


def test_first_order_starts_the_engine_and_the_next_goes_as_a_command(tmp_path: Path) -> None:
    first = engines.hand_over(mode="paper", intent_path=intent(tmp_path, "t1"), command=command("t1"))
    second = engines.hand_over(mode="paper", intent_path=intent(tmp_path, "t2"), command=command("t2"))
    assert first.kind == "start" and second.kind == "command"
    assert second.run_id == first.run_id and second.pid == first.pid
    result = engines.wait_command_result("paper", second.command_id, timeout=10)
    assert result is not None and result["success"] is True
    state = engines.engine_state("paper")
    assert state.state == "running" and state.pid == first.pid
    config = json.loads((engines.engine_dir("paper") / "config.json").read_text())
    assert config["parameters"]["run-id"] == first.run_id


def test_stop_command_stops_the_engine_cleanly(tmp_path: Path) -> None:
    engines.hand_over(mode="paper", intent_path=intent(tmp_path, "t3"), command=command("t3"))
    # Once the engine runs (its "started" line), SIGINT takes the clean path: a SIGINT during the
    # interpreter's own start-up, before any handler exists, cannot (LEAN's .NET start-up alike).
    events = engines.engine_dir("paper") / "events.jsonl"
    assert wait_for(lambda: events.exists() and b'"started"' in events.read_bytes(), 15)
    out = StringIO()
    call_command("engine", "stop", "paper", stdout=out)
    state = json.loads(out.getvalue())
    assert state["state"] == "stopped" and state["exit_code"] == 0
    assert engines.running_engine("paper") is None


def test_a_pid_file_naming_another_process_is_not_a_live_engine(tmp_path: Path) -> None:
    folder = engines.engine_dir("paper")
    folder.mkdir(parents=True)
    # pid 1 exists but is not this folder's engine (pid reuse after a reboot looks like this).
    (folder / "engine.pid").write_text(json.dumps({"pid": 1, "run_id": "r-old"}))
    assert engines.running_engine("paper") is None
    assert engines.engine_state("paper").state == "error"


def test_command_files_appear_only_under_their_final_name(tmp_path: Path) -> None:
    folder = engines.engine_dir("paper")
    folder.mkdir(parents=True)
    path = engines.write_command("paper", command("t4"))
    assert path.name == f"command-{engines.command_id_for('t4')}.json"
    assert sorted(p.name for p in folder.iterdir()) == [path.name]
    assert engines.retract_command("paper", engines.command_id_for("t4"))
    assert not path.exists()


def test_engine_that_cannot_start_reports_an_error(settings: Any, tmp_path: Path) -> None:
    settings.TRADEDESK_ENGINE = "lean"
    settings.LEAN_LAUNCHER_DIR = str(tmp_path / "no-lean")
    settings.LEAN_LAUNCHER_CMD = "/nonexistent/dotnet QuantConnect.Lean.Launcher.dll"
    settings.IB_LOGINS = {"paper": {"user_name": "u", "password": "p", "account": "DU1"}}
    settings.IB_TWS_DIR = str(tmp_path / "Jts")
    settings.QC_USER_ID, settings.QC_API_TOKEN, settings.QC_ORGANIZATION_ID = "1", "token", "org"
    with pytest.raises(engines.EngineError):
        engines.hand_over(mode="paper", intent_path=intent(tmp_path, "t5"), command=command("t5"))
    deadline = time.monotonic() + 5
    while engines.engine_state("paper").state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engines.engine_state("paper").state == "error"
