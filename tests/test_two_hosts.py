"""Two engine hosts and a web host: real workers, each with its own execution root and queue, one beat, a web
process that sees no engine folder, one database and a private Redis. Orders, cancels and HALT reach the
engine host of their mode; ingest runs where the files are."""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from execution.models import EventFileCursor
from orders.models import TradeOrder
from tests.conftest import _stop_engines
from tests.factories import ProjectFactory
from tests.test_faults import ROOT, Processes, free_port, worker_args
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

QUEUES = "paper=engine.paper,live=engine.live"
WAIT = 90


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """One execution root per host; engines the workers started are killed at the end."""
    roots = {name: tmp_path / f"{name}-host" for name in ("paper", "live", "web")}
    for root in roots.values():
        root.mkdir()
    yield roots
    for root in roots.values():
        _stop_engines(root)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


class Desk:
    """HTTP to the web host with alice's token."""

    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://127.0.0.1:{port}/api/trade"
        self.token = token

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def _status(order_id: int) -> str:
    return TradeOrder.objects.get(pk=order_id).status


def test_orders_cancels_and_halt_reach_the_engine_host_of_their_mode(
    hosts: dict[str, Path], processes: Processes, tmp_path: Path, user: Any, token: str
) -> None:
    user.user_permissions.add(Permission.objects.get(codename="trade_live"))
    # Resting limits far below the market (they must stay working): the price bands are widened for them.
    wide = {"price_band_soft_pct": Decimal("99.9"), "price_band_hard_pct": Decimal("99.9")}
    paper = ProjectFactory(name="alpha", members=[user], **wide)
    live = ProjectFactory(name="beta", mode="live", members=[user], **wide)
    db = connection.settings_dict
    redis_port, web_port = free_port(), free_port()
    base = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TRADEDESK_ENGINE_QUEUES": QUEUES,
        "TRADEDESK_INGEST_INTERVAL": "0.5",
        "TRADEDESK_SWEEP_INTERVAL": "2",
        "PYTHONPATH": str(ROOT),
    }

    def host_env(name: str, **extra: str) -> dict[str, str]:
        return {
            **base,
            "TRADEDESK_EXECUTION_ROOT": str(hosts[name]),
            "TRADEDESK_VAR_DIR": str(tmp_path / f"{name}-var"),
            **extra,
        }

    processes.start(
        "redis",
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        base,
    )  # fmt: skip
    for mode in ("paper", "live"):
        processes.start(
            f"worker-{mode}", worker_args("-Q", f"engine.{mode}", "-n", f"{mode}@%h"), host_env(mode)
        )
    web_env = host_env("web", TRADEDESK_ENGINE_FILES_LOCAL="false")
    processes.start(
        "web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"], web_env
    )
    # The one beat: per-mode ingest and sweep, each on its engine host's queue.
    processes.start(
        "beat",
        [sys.executable, "-m", "celery", "-A", "tradedesk", "beat", "-l", "INFO",
         "--schedule", str(tmp_path / "beat-schedule")],
        web_env,
    )  # fmt: skip

    def logs() -> str:
        return "".join(
            f"\n--- {name}\n{processes.log(name)[-4000:]}"
            for name in ("worker-paper", "worker-live", "web", "beat")
        )

    def web_up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", web_port), timeout=0.2):
                return True
        except OSError:
            return False

    assert wait_for(web_up, 60), logs()
    desk = Desk(web_port, token)

    # A market order of each mode fills through its own host's engine; beat ingests it there.
    filled = {}
    for project in (paper, live):
        status, body = desk.post(
            "/orders", {"symbol": "AAPL", "side": "BUY", "quantity": 2, "project_id": project.pk}
        )
        assert status == 201, body
        filled[project.mode] = body["id"]
    for mode, order_id in filled.items():
        assert wait_for(lambda order_id=order_id: _status(order_id) == "FILLED", WAIT), logs()
        other = "live" if mode == "paper" else "paper"
        assert (hosts[mode] / "engines" / mode / "events.jsonl").is_file()
        assert not (hosts[other] / "engines" / mode).exists()
    assert not (hosts["web"] / "engines").exists()
    cursors = set(EventFileCursor.objects.values_list("path", flat=True))
    assert cursors == {str(hosts[mode] / "engines" / mode / "events.jsonl") for mode in ("paper", "live")}

    def resting(project: Any) -> int:
        status, body = desk.post(
            "/orders",
            {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "LMT", "limit_price": "1.00",
             "project_id": project.pk},
        )  # fmt: skip
        assert status == 201, body
        order_id = int(body["id"])
        assert wait_for(lambda: TradeOrder.objects.get(pk=order_id).ib_order_id is not None, WAIT), logs()
        return order_id

    # A cancel of an order the engine holds is a request: 202, then the engine host makes it CANCELED.
    for project in (paper, live):
        order_id = resting(project)
        status, body = desk.post(f"/orders/{order_id}/cancel")
        assert status == 202, body
        assert body["cancel_requested"] is True and body["status"] == "SUBMITTED"
        assert wait_for(lambda order_id=order_id: _status(order_id) == "CANCELED", WAIT), logs()

    # HALT writes the state and the cancel requests; each engine host sends its own.
    held = {project.mode: resting(project) for project in (paper, live)}
    for project in (paper, live):
        status, body = desk.post(f"/projects/{project.pk}/trading-state", {"trading_state": "HALTED"})
        assert status == 200 and body["trading_state"] == "HALTED", body
    for mode, order_id in held.items():
        assert wait_for(lambda order_id=order_id: _status(order_id) == "CANCELED", WAIT), logs()
        order = TradeOrder.objects.get(pk=order_id)
        assert order.cancel_sent_at is not None and order.mode == mode
