"""`make run` starts the paper simulator with the desk (the Procfile's `engine` process): its prices move
before any order, its idle exit never stops it while the desk runs, and it exits idle once the desk is gone.
With TRADEDESK_ENGINE=lean (make run-lean shares the Procfile) it starts no engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from execution.actions import desk_engine_run
from execution.engine import process as engines
from orders.models import TradeOrder
from tests.test_worker_shutdown import ROOT, procfile_command
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def prices(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def test_make_runs_engine_is_up_with_moving_prices_before_any_order(
    execution_root: Path, tmp_path: Path
) -> None:
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TRADEDESK_EXECUTION_ROOT": str(execution_root),
        "TRADEDESK_VAR_DIR": str(tmp_path / "var"),
        "TRADEDESK_ENGINE": "simulator",
        "TRADEDESK_SIM_IDLE_TIMEOUT": "1",
        "TRADEDESK_PRICES_INTERVAL": "1",
        "TRADEDESK_SIM_FOLLOW": "AAPL,SPY",
    }
    log = open(tmp_path / "desk_engine.log", "wb")  # noqa: SIM115 - owned by the process
    desk = subprocess.Popen(
        ["/bin/sh", "-c", procfile_command("engine")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # as honcho starts it
    )
    folder = engines.engine_folder("paper")
    try:
        first = wait_for(lambda: prices(folder.prices).get("prices") and prices(folder.prices), timeout=30)
        assert first, (tmp_path / "desk_engine.log").read_text()
        assert {quote["symbol"] for quote in first["prices"]} == {"AAPL", "SPY"}
        assert TradeOrder.objects.count() == 0  # before any order
        started = datetime.fromisoformat(first["time"])

        def moved_past_idle() -> Any:
            now = prices(folder.prices)
            return (
                now if now and (datetime.fromisoformat(now["time"]) - started).total_seconds() >= 4 else None
            )

        later = wait_for(moved_past_idle, timeout=30)
        assert later, "prices stopped moving: the simulator exited idle while the desk ran"
        assert later["run_id"] == first["run_id"]  # the same run: never exited idle and started again
        assert later["prices"] != first["prices"]
        assert json.loads(folder.account_snapshot.read_text())["buying_power"] > 0
        assert engines.running_engine("paper") is not None
    finally:
        os.killpg(desk.pid, signal.SIGTERM)
        desk.wait(timeout=30)
        log.close()
    # The desk is gone: the detached simulator is left to its idle exit.
    stopped = wait_for(
        lambda: [
            line
            for line in map(json.loads, folder.events.read_text().splitlines())
            if line.get("status") == "stopped"
        ],
        timeout=30,
    )
    assert stopped and stopped[-1]["reason"] == "idle"


def test_with_lean_the_desk_engine_starts_nothing(settings: Any, execution_root: Path) -> None:
    settings.TRADEDESK_ENGINE = "lean"
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert desk_engine_run(mode="paper", stop=stop) == 0
    assert engines.running_engine("paper") is None
    assert not engines.engine_folder("paper").config.exists()
