"""The engine as its own process: clean environment, `engine start|stop|status`, autostart off, and an engine
that outlives its worker's whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from execution import actions as services
from execution.engine import process as engines
from orders.models import OrderStatus, TradeOrder
from orders.services import create_trade_order
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.django_db
def test_engine_gets_no_database_url_secret_key_broker_or_ib_secrets(monkeypatch: Any) -> None:
    for name, value in {
        "DATABASE_URL": "postgres://u:dbpass@h/db",
        "DJANGO_SECRET_KEY": "s" * 60,
        "CELERY_BROKER_URL": "redis://h:6379/0",
        "IB_PAPER_PASSWORD": "ibpass",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "LANG": "C.UTF-8",
    }.items():
        monkeypatch.setenv(name, value)
    state = engines.engine_start("paper")
    assert state.state == "running"
    info = engines.running_engine("paper")
    assert info is not None
    for pid in (info["pid"], info["supervisor"]):
        env = environ_of(pid)
        leaked = {"DATABASE_URL", "DJANGO_SECRET_KEY", "CELERY_BROKER_URL", "IB_PAPER_PASSWORD"} & set(env)
        assert leaked == set() and "AWS_SECRET_ACCESS_KEY" not in env
        assert env["PATH"] == os.environ["PATH"] and env["LANG"] == "C.UTF-8"
    assert "dbpass" not in (engines.engine_dir("paper") / "config.json").read_text()


@pytest.mark.django_db
def test_engine_command_starts_shows_and_stops_the_engine(capsys: Any) -> None:
    call_command("engine", "start", "--mode", "paper")
    assert '"state": "running"' in capsys.readouterr().out
    first = engines.running_engine("paper")
    call_command("engine", "start", "--mode", "paper")  # a second start keeps the running engine
    assert engines.running_engine("paper") == first
    call_command("engine", "status", "--mode", "paper")
    assert '"state": "running"' in capsys.readouterr().out
    call_command("engine", "stop", "--mode", "paper")
    assert '"state": "stopped"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        call_command("engine", "status", "--mode", "paper")
    assert stopped.value.code == 3


@pytest.mark.django_db
def test_engine_start_line_names_the_order_and_request(settings: Any, project: Any) -> None:
    import structlog

    from execution.tasks import execute_manual_order

    order = TradeOrderFactory(project=project, params={"source": "test", "mode": "paper"})
    with structlog.contextvars.bound_contextvars(request_id="req-9"):
        execute_manual_order.run(order.pk)
    header = (engines.engine_dir("paper") / "engine.log").read_text().splitlines()[0]
    assert f"order_id={order.pk}" in header and "request_id=req-9" in header


@pytest.mark.django_db
def test_without_autostart_an_order_fails_naming_the_engine_command(settings: Any, project: Any) -> None:
    settings.TRADEDESK_ENGINE_AUTOSTART = False
    order = TradeOrderFactory(project=project, params={"source": "test", "mode": "paper"})
    result = services.order_dispatch(order_id=order.pk)
    order.refresh_from_db()
    assert result.outcome == "failed" and order.status == OrderStatus.FAILED
    assert "manage.py engine start --mode paper" in order.status_message
    assert engines.running_engine("paper") is None


@pytest.mark.django_db
def test_without_autostart_orders_go_to_the_engine_the_unit_started(settings: Any, project: Any) -> None:
    settings.TRADEDESK_ENGINE_AUTOSTART = False
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    engines.engine_start("paper")
    order = TradeOrderFactory(project=project, params={"source": "test", "mode": "paper"})
    result = services.order_dispatch(order_id=order.pk)
    assert result.outcome == "dispatched" and result.detail == "command accepted"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_engine_outlives_a_killed_worker_process_group(
    execution_root: Path, tmp_path: Path, project: Any, user: Any
) -> None:
    from tradedesk.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TRADEDESK_EXECUTION_ROOT": str(execution_root),
        "TRADEDESK_VAR_DIR": str(tmp_path / "var"),
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - owned by the worker
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tradedesk", "worker", "--pool", "threads", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        order = create_trade_order(
            {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
        ).order
        handed = wait_for(
            lambda: TradeOrder.objects.get(pk=order.pk).params.get("manual_execution"), timeout=60
        )
        assert handed, (tmp_path / "worker.log").read_text()
        info = engines.running_engine("paper")
        assert info is not None and info["run_id"] == handed["run_id"]
        assert os.getpgid(info["pid"]) != worker.pid
        os.killpg(worker.pid, signal.SIGKILL)  # what a worker restart does to its whole process group
        worker.wait(30)
        assert engines.running_engine("paper") == info
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)
        log.close()
