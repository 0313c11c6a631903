"""Reconciliation: holdings lines against the ledger; the engines API and command show engine state."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from execution.events import ingest_execution_events
from execution.models import HoldingsDiscrepancy
from orders.services import apply_fill_to_order
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def holdings(*items: tuple[str, float]) -> str:
    line = {
        "type": "holdings",
        "run_id": "r-h",
        "time": "2026-11-25T15:00:00Z",
        "holdings": [{"symbol": s, "quantity": q, "avg_price": 100.0} for s, q in items],
    }
    return json.dumps(line) + "\n"


@pytest.fixture
def events_file(execution_root: Path) -> Path:
    path = execution_root / "engines" / "paper" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.touch()
    return path


def test_disagreeing_holdings_are_flagged_until_they_agree(
    project: Any, events_file: Path, api: Client, user: Any
) -> None:
    user.is_staff = True  # desk-wide holdings are for staff
    user.save()
    seed = TradeOrderFactory(project=project, quantity=Decimal(10))
    apply_fill_to_order(seed, quantity=10, price=100)
    with open(events_file, "a") as handle:
        handle.write(holdings(("AAPL", 7), ("TSLA", 3)))
    ingest_execution_events()
    flagged = {d.symbol: (d.engine_quantity, d.ledger_quantity) for d in HoldingsDiscrepancy.objects.all()}
    assert flagged == {"AAPL": (Decimal(7), Decimal(10)), "TSLA": (Decimal(3), Decimal(0))}
    paper = next(e for e in api.get("/api/trade/engines").json() if e["mode"] == "paper")
    assert {d["symbol"] for d in paper["discrepancies"]} == {"AAPL", "TSLA"}

    with open(events_file, "a") as handle:
        handle.write(holdings(("AAPL", 10)))
    ingest_execution_events()
    assert not HoldingsDiscrepancy.objects.exists()


def test_holdings_are_compared_after_the_fills_written_before_them(project: Any, events_file: Path) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_h_1", quantity=Decimal(4))
    fill = {
        "tag": "oi_h_1",
        "status": "Filled",
        "order_id": 1,
        "event_id": 1,
        "run_id": "r-h",
        "filled": 4,
        "fill_price": 50.0,
        "time": "2026-11-25T14:59:00Z",
    }
    with open(events_file, "a") as handle:
        handle.write(json.dumps(fill) + "\n" + holdings(("AAPL", 4)))
    ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "FILLED" and not HoldingsDiscrepancy.objects.exists()


def test_live_holdings_are_compared_with_live_positions_only(project: Any, execution_root: Path) -> None:
    seed = TradeOrderFactory(project=project, quantity=Decimal(2))
    apply_fill_to_order(seed, quantity=2, price=1)
    path = execution_root / "engines" / "live" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(holdings())
    ingest_execution_events()
    assert not HoldingsDiscrepancy.objects.exists()


def test_engine_command_reports_state_and_checks_the_projects_mode(project: Any) -> None:
    out = StringIO()
    with pytest.raises(SystemExit) as stopped:  # LSB: status of a service that is not running is 3
        call_command("engine", "status", project.name, "paper", stdout=out)
    assert stopped.value.code == 3
    assert json.loads(out.getvalue())["state"] == "not started"
    with pytest.raises(Exception, match="paper mode, not live"):
        call_command("engine", "status", project.name, "live", stdout=StringIO())
