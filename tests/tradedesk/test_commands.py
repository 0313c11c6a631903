"""Management commands: seed_demo (idempotent, prints a token) and create_api_token."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from orders.models import Position, Project, TradeOrder

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_its_token_works() -> None:
    run("seed_demo")
    token = run("seed_demo").split()[-1]
    demo = Project.objects.get(name="demo")
    assert Project.objects.filter(name="default", members__username="demo").exists()
    assert TradeOrder.objects.filter(project=demo).count() == 3
    assert Position.objects.filter(project=demo).exclude(quantity=0).count() == 3
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(
        "/api/trade/positions", {"project_id": demo.pk}
    )
    assert response.status_code == 200 and len(response.json()) == 3
    client = Client()
    response = client.post("/accounts/login/", {"username": "demo", "password": "demo"})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_seeded_orders_are_never_sent_to_an_engine() -> None:
    run("seed_demo")
    assert not TradeOrder.objects.filter(params__source="manual").exists()
    assert set(TradeOrder.objects.values_list("status", flat=True)) == {"FILLED"}


def test_create_api_token_prints_a_working_token(user: object) -> None:
    token = run("create_api_token", "alice").split()[-1]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/trade/orders").status_code == 200
    with pytest.raises(CommandError):
        run("create_api_token", "nobody")


def test_seeded_positions_agree_with_the_simulators_holdings(execution_root: object) -> None:
    from execution.engine import process as engines
    from execution.ingest.events import ingest_execution_events
    from execution.models import HoldingsDiscrepancy
    from execution.simulator import ACCOUNT_FILE

    run("seed_demo")
    run("seed_demo")
    account = json.loads((engines.engine_dir("paper") / ACCOUNT_FILE).read_text())["positions"]
    assert {symbol: pos["quantity"] for symbol, pos in account.items()} == {"AAPL": 10, "MSFT": 5, "NVDA": 8}
    line = {
        "type": "holdings",
        "run_id": "r",
        "time": "2026-11-25T00:00:00Z",
        "holdings": [{"symbol": s, "quantity": p["quantity"], "avg_price": 1} for s, p in account.items()],
    }
    (engines.engine_dir("paper") / "events.jsonl").write_text(json.dumps(line) + "\n")
    ingest_execution_events()
    assert not HoldingsDiscrepancy.objects.exists()


def test_seeded_rows_are_created_before_every_status_time_and_updated_after() -> None:
    from orders.models import ExecutionEvent, TradeFill

    run("seed_demo")
    orders = list(TradeOrder.objects.filter(params__source="seed").order_by("created_at"))
    assert len(orders) == 3
    assert [o.client_order_id for o in orders] == ["demo_seed_1", "demo_seed_2", "demo_seed_3"]
    for order in orders:
        fills = list(TradeFill.objects.filter(order=order))
        events = list(ExecutionEvent.objects.filter(order=order))
        assert fills and len(events) == 3
        status_times = [order.status_ts, order.last_status_ts, *(f.filled_at for f in fills)]
        status_times += [e.event_time for e in events]
        assert None not in status_times
        for moment in status_times:
            assert order.created_at <= moment <= order.updated_at, (order.client_order_id, moment)
        for fill in fills:
            assert fill.filled_at <= fill.created_at <= order.updated_at
        for event in events:
            assert event.event_time <= event.received_at <= order.updated_at
        position = Position.objects.get(project=order.project, symbol=order.symbol)
        assert order.created_at <= position.last_fill_at <= position.updated_at
