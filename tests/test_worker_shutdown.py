"""A worker started as the Procfile starts it exits on SIGTERM while it holds a task, after finishing it.

With the prefork pool a SIGTERM to the worker's process group (honcho, or systemd without KillMode=mixed)
killed the pool children while one held the pool's queue lock; the main process then waited on that lock for
ever after "Warm shutdown". The Procfile's worker runs the threads pool: one process, no such lock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from execution.engine import process as engines
from orders.models import TradeOrder
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "-A", "tradedesk"]


def procfile_command(name: str) -> str:
    match = re.search(rf"^{name}:\s*(.+)$", (ROOT / "Procfile").read_text(), re.MULTILINE)
    assert match, f"no {name} in the Procfile"
    return match.group(1)


def silent_engine(mode: str) -> subprocess.Popen[bytes]:
    """A live process that passes for the mode's engine but never answers commands."""
    folder = engines.engine_dir(mode)
    folder.mkdir(parents=True, exist_ok=True)
    config = (folder / "config.json").resolve()
    config.write_text("{}")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", str(config)], start_new_session=True
    )
    (folder / "engine.pid").write_text(f'{{"pid": {proc.pid}, "run_id": "r-silent"}}')
    return proc


def test_worker_exits_on_sigterm_to_its_group_after_finishing_its_task(
    execution_root: Path, tmp_path: Path, project: Any
) -> None:
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
    env |= {
        # make run's defaults: the filesystem broker under the var folder.
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TRADEDESK_EXECUTION_ROOT": str(execution_root),
        "TRADEDESK_VAR_DIR": str(tmp_path / "var"),
        "TRADEDESK_COMMAND_RESULT_TIMEOUT": "8",
    }
    engine = silent_engine("paper")
    order = TradeOrderFactory(project=project, params={"source": "test", "mode": "paper"})
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - owned by the worker
    worker = subprocess.Popen(
        ["/bin/sh", "-c", procfile_command("worker")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # as honcho starts it
    )
    try:
        subprocess.run(
            [*CELERY, "call", "execution.tasks.execute_manual_order", "--args", f"[{order.pk}]"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        command = engines.command_path("paper", engines.command_id_for(order.client_order_id))
        # The task now waits for the engine's answer: the worker holds it.
        assert wait_for(command.exists, timeout=60), (tmp_path / "worker.log").read_text()
        # One process holds the task: no pool child exists that a group-wide signal could kill mid-lock.
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        assert children == [], "the Procfile's worker runs a pool of child processes"
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=90)
        assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
        record = TradeOrder.objects.get(pk=order.pk).params["manual_execution"]
        assert record["handover"] == "command"
        assert "Warm shutdown" in (tmp_path / "worker.log").read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)
        engine.kill()
        engine.wait(10)
        log.close()
