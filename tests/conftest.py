"""Shared fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from orders.services import api_token_create
from orders.services.market import market_price_source_register
from tests.factories import ProjectFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_path() -> Any:
    """Path of a file under tests/fixtures."""
    return lambda name: FIXTURES / name


@pytest.fixture(autouse=True)
def execution_root(settings: Any, tmp_path: Path) -> Path:
    """Each test gets its own execution root (engines, intents, events)."""
    root = tmp_path / "execution"
    root.mkdir()
    settings.TRADEDESK_EXECUTION_ROOT = root
    yield root
    _stop_engines(root)


def _stop_engines(root: Path) -> None:
    """Kill any engine a test started under its root."""
    import json
    import os
    import signal

    for pid_file in root.glob("engines/*/engine.pid"):
        try:
            pid = json.loads(pid_file.read_text())["pid"]
            if isinstance(pid, int):
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, ValueError, KeyError, OSError):
            pass


@pytest.fixture(autouse=True)
def _clear_ingest_cache() -> None:
    from execution.ingest import events

    events._seen.clear()


@pytest.fixture
def user(db: Any) -> Any:
    """A trader."""
    return UserFactory(username="alice")


@pytest.fixture
def project(user: Any) -> Any:
    """A paper project alice is a member of."""
    return ProjectFactory(name="alpha", members=[user])


@pytest.fixture
def token(user: Any) -> str:
    """A raw API token for alice."""
    return api_token_create(user=user)[1]


@pytest.fixture
def api(token: str) -> Client:
    """A client that sends alice's Bearer token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def copy_fixture(tmp_path: Path) -> Any:
    """Copy a fixture events file into a fresh folder and return its path."""

    def copy(name: str, dest: str = "events.jsonl") -> Path:
        target = tmp_path / "copied" / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture
def celery_worker_thread(transactional_db: Any) -> Any:
    """A real Celery worker (solo pool, in a thread) consuming from the Redis broker, queue purged first."""
    from celery.contrib.testing.worker import start_worker

    from tests.celery_worker import connections_closed_after_tasks
    from tradedesk.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("celery")
    with (
        connections_closed_after_tasks(),
        start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=15, loglevel="WARNING"
        ) as worker,
    ):
        yield worker


@pytest.fixture
def market(settings: Any) -> Iterator[dict[str, Decimal]]:
    """Fresh engine prices a test sets per symbol; price bands of 10% (confirm) and 50% (refused)."""
    from execution.ingest.prices import fresh_market_price  # execution: loaded once Django's apps are

    settings.TRADEDESK_PRICE_BAND_SOFT_PCT = Decimal(10)
    settings.TRADEDESK_PRICE_BAND_HARD_PCT = Decimal(50)
    prices: dict[str, Decimal] = {}
    market_price_source_register(lambda mode, symbol: prices.get(symbol))
    yield prices
    market_price_source_register(fresh_market_price)


@pytest.fixture
def buying_power() -> Iterator[dict[str, Decimal]]:
    """The accounts' fresh buying power a test sets per mode (as the engines' account snapshots give it)."""
    from execution.ingest.account import fresh_buying_power
    from orders.services.market import buying_power_source_register

    power: dict[str, Decimal] = {}
    buying_power_source_register(lambda mode: power.get(mode))
    yield power
    buying_power_source_register(fresh_buying_power)


ENGINE_DOWN_REASON = "ActionRequired 2FAAuthRequired: 2FA authentication confirmation required to reconnect."


@pytest.fixture
def engine_down(settings: Any, execution_root: Path) -> str:
    """Production's autostart off, and the paper engine's folder after LEAN ended run r-9 on a missed 2FA (the
    supervisor's exit record): the mode's engine is known to be down. Returns LEAN's reason."""
    import json

    settings.TRADEDESK_ENGINE_AUTOSTART = False
    settings.TRADEDESK_ENGINE_FILES_LOCAL = True
    folder = execution_root / "engines" / "paper"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "engine.pid").write_text(json.dumps({"pid": 2**22 + 17, "run_id": "r-9", "started_at": "x"}))
    (folder / "engine.exit.json").write_text(
        json.dumps({"run_id": "r-9", "pid": 2**22 + 17, "exit_code": 1, "exited_at": "2026-12-06T22:15:01.000Z",
                    "ended_by": "brokerage", "message": ENGINE_DOWN_REASON, "log_tail": []})
    )  # fmt: skip
    return ENGINE_DOWN_REASON


@pytest.fixture
def holding(project: Any) -> Any:
    """alice's paper project holding 5 KO, with a resting MSFT limit never handed over."""
    from orders.models import OrderStatus
    from orders.services import apply_fill_to_order, update_trade_order_status
    from tests.factories import TradeOrderFactory

    seed = TradeOrderFactory(project=project, symbol="KO", quantity=Decimal(5))
    apply_fill_to_order(seed, quantity=5, price=50)
    update_trade_order_status(seed, OrderStatus.FILLED)
    TradeOrderFactory(
        project=project, symbol="MSFT", order_type="LMT", limit_price=Decimal(1), params={"source": "manual"}
    )
    return project
