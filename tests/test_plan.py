"""The original plan's tests (2026-01-28 manual LEAN order execution), run against tradedesk.

Only the plumbing is changed, and each change is named where it is made. The plan was written for FastAPI and
SQLAlchemy: its `sys.path` set-up and in-memory SQLAlchemy sessions are gone (pytest-django gives each test
a migrated database, so `create_trade_order(session, payload)` is `create_trade_order(payload)`), its modules
are tradedesk's (`lean_execution` is execution.ingest.events, `manual_trade_execution` is where each call
lives: execution.contract.intents, execution.engine.process, execution.tasks), and its monkeypatched
`SessionLocal` has no counterpart. The calls, payloads, events and assertions are the plan's.

Task 5's flow (a position row's quantity, then Buy and Sell, in Playwright) is the e2e suite's
tests/e2e/test_live_trade.py::test_buy_then_sell_from_a_position_row_both_fill_on_screen; Task 7 is running
this module and that one.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from execution.contract.intents import write_manual_order_intent
from execution.engine import process as engine_process
from execution.ingest import events as lean_execution
from execution.tasks import execute_manual_order
from orders.models import Project, TradeOrder
from orders.services import create_trade_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_project(db: Any) -> Project:
    """The `default` PAPER project a fresh database has (orders' migration 0015), made again if a
    transactional test earlier in the run flushed the database (plumbing: the plan's database is fresh)."""
    migration = importlib.import_module("orders.migrations.0015_default_project")
    migration.default_project_create(apps, None)
    return Project.objects.get(name="default")


# --- Task 1: JSONL ingest entry ---------------------------------------------------------------------------


def test_ingest_events_jsonl_calls_apply(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    events_path = tmp_path / "events.jsonl"
    events_path.write_text(
        '{"tag": "oi_1", "status": "Submitted"}\n{"tag": "oi_1", "status": "Filled", "filled": 1, "fill_price": 10}\n'
    )
    calls: dict[str, Any] = {"payload": None}

    # Plumbing: tradedesk's ingest also passes keyword arguments (source, mode, the parsed batch) and reads
    # the report that comes back.
    def _fake_apply(events: Any, **kwargs: Any) -> Any:
        calls["payload"] = events
        return lean_execution.IngestReport()

    monkeypatch.setattr(lean_execution, "apply_execution_events", _fake_apply, raising=False)

    lean_execution.ingest_execution_events(str(events_path))
    assert calls["payload"] is not None
    assert len(calls["payload"]) == 2


# --- Task 2: events update the order by tag ---------------------------------------------------------------


def test_apply_execution_events_updates_order() -> None:
    payload = {
        "client_order_id": "oi_0_0_123",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 1,
        "order_type": "MKT",
    }
    result = create_trade_order(payload)

    events = [
        {"tag": "oi_0_0_123", "status": "Submitted", "order_id": 1001, "time": "2026-01-28T00:00:00Z"},
        {
            "tag": "oi_0_0_123",
            "status": "Filled",
            "filled": 1,
            "fill_price": 100.0,
            "time": "2026-01-28T00:00:01Z",
        },
    ]
    lean_execution.apply_execution_events(events)

    result.order.refresh_from_db()  # plumbing: session.refresh(result.order)
    assert result.order.status == "FILLED"
    assert result.order.filled_quantity == 1
    assert result.order.avg_fill_price == 100.0
    assert result.order.ib_order_id == 1001


# --- Task 3: the manual order's intent file ---------------------------------------------------------------


def test_write_manual_order_intent_builds_quantity(tmp_path: Path) -> None:
    payload = {
        "client_order_id": "oi_0_0_123",
        "symbol": "AAPL",
        "side": "SELL",
        "quantity": 1,
        "order_type": "MKT",
    }
    order = create_trade_order(payload).order

    path = write_manual_order_intent(order, output_dir=tmp_path)
    text = Path(path).read_text(encoding="utf-8")
    assert "order_intent_id" in text
    assert "oi_0_0_123" in text
    assert '"quantity": -1' in text


# --- Task 4: the manual order's execution launches the engine ---------------------------------------------


def test_execute_manual_order_launches(monkeypatch: pytest.MonkeyPatch, execution_root: Path) -> None:
    calls = {"launched": False}

    def _fake_launch(config_path: str) -> None:
        calls["launched"] = True

    monkeypatch.setattr(engine_process, "launch_execution", _fake_launch, raising=False)
    # Plumbing: the task would queue the first ingest on the broker; this test has none to read.
    monkeypatch.setattr(
        execute_manual_order.app.tasks["execution.tasks.ingest_events"], "apply_async", lambda **k: None
    )

    # The plan's TODO: an order of a project and mode, then execute_manual_order.
    order = create_trade_order(
        {"client_order_id": "oi_0_0_124", "symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT"}
    ).order
    execute_manual_order(order.pk, mode=order.mode)
    assert calls["launched"] is True
    order.refresh_from_db()
    record = order.params["manual_execution"]
    assert record["handover"] == "start" and Path(record["config_path"]).is_file()
    assert json.loads(Path(record["intent_path"]).read_text())["order_intent_id"] == "oi_0_0_124"


# --- Task 6: listing orders ingests the events first ------------------------------------------------------


def test_orders_trigger_ingest(execution_root: Path, api: Client, project: Project) -> None:
    order = TradeOrder.objects.get(
        pk=create_trade_order(
            {"client_order_id": "oi_0_0_125", "symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT",
             "project_id": project.pk},
            user=project.members.get(),
        ).order.pk
    )  # fmt: skip
    events_file = execution_root / "engines" / "paper" / "events.jsonl"
    events_file.parent.mkdir(parents=True)
    events_file.write_text(
        '{"tag": "oi_0_0_125", "status": "Submitted", "order_id": 7, "event_id": 1, "run_id": "r-1"}\n'
        '{"tag": "oi_0_0_125", "status": "Filled", "order_id": 7, "event_id": 2, "run_id": "r-1",'
        ' "filled": 1, "fill_price": 10}\n'
    )

    listed = api.get("/api/trade/orders").json()

    row = next(item for item in listed["items"] if item["client_order_id"] == order.client_order_id)
    assert row["status"] == "FILLED"
