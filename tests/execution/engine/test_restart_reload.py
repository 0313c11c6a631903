"""Working orders across an engine restart (issue 21, item 3), end to end with the simulator.

LEAN reloads every open IB order at setup (Engine/Setup/BrokerageSetupHandler.cs:405,485-518@24863901) as an
order of the new run, rebuilt without the tag (the IB plugin sends none to IB; ConvertOrder,
InteractiveBrokersBrokerage.cs:3245-3370@d154917, BrokerId from IB's order id at :3365; orders placed in TWS
have negative ids, :572): tests/fixtures/lean/reloaded-orders-excerpt.json. The simulator does the same: its
broker keeps working orders across its restart, the new run takes them as its first orders, untagged, and
lists them in an open-orders line. A resting limit placed in run 1 fills in run 2 and lands on its order; a
TWS-style order the desk does not know stays unmatched.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from execution import actions
from execution.dispatch.cancels import cancels_send_pending
from execution.engine import config as engine_config
from execution.engine import process as engines
from execution.models import EngineOpenOrder
from orders.models import AuditLog, ExecutionEvent, OrderStatus, Position, TradeOrder
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for

EXCERPT = "lean/reloaded-orders-excerpt.json"


def ingested(predicate: Any, timeout: float = 20) -> Any:
    """Ingest the paper engine's events until `predicate()` holds."""

    def step() -> Any:
        actions.ingest_execution_events(mode="paper")
        return predicate()

    return wait_for(step, timeout)


def order(pk: int) -> TradeOrder:
    return TradeOrder.objects.get(pk=pk)


@pytest.mark.django_db
def test_a_resting_limit_of_run_1_fills_in_run_2_on_its_order_and_a_tws_order_stays_unmatched(
    settings: Any, project: Any, monkeypatch: pytest.MonkeyPatch, fixture_path: Any, admin_user: Any
) -> None:
    facts = json.loads(fixture_path(EXCERPT).read_text())
    reload_lines = next(e for e in facts["excerpts"] if e["lines"] == "485-518")["text"]
    assert any("transactionHandler.AddOpenOrder(order, algorithm);" in line for line in reload_lines)
    assert (
        facts["_source"]["checked"][
            "OrderRef occurrences in QuantConnect.InteractiveBrokersBrokerage/InteractiveBrokersBrokerage.cs"
        ]
        == 0
    )  # the tag never reaches IB

    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    engines.engine_start("paper")
    run_1 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    # Run 1: a buy limit far under AAPL's price and a sell limit far over MSFT's: both rest.
    resting = TradeOrderFactory(
        project=project, symbol="AAPL", quantity=Decimal(5), order_type="LMT", limit_price=Decimal("1.00"),
        params={"source": "test", "mode": "paper"},
    )  # fmt: skip
    other = TradeOrderFactory(
        project=project, symbol="MSFT", side="SELL", quantity=Decimal(2), order_type="LMT",
        limit_price=Decimal("99999.00"), params={"source": "test", "mode": "paper"},
    )  # fmt: skip
    for pk in (resting.pk, other.pk):
        assert actions.order_dispatch(order_id=pk).outcome == "dispatched"
    assert ingested(lambda: all(order(pk).broker_order_id for pk in (resting.pk, other.pk)))
    before = {pk: (order(pk).ib_order_id, order(pk).broker_order_id) for pk in (resting.pk, other.pk)}
    assert order(resting.pk).status == OrderStatus.SUBMITTED

    # The engine restarts; meanwhile someone places an order in TWS (IB gives it a negative id) and AAPL
    # trades down through the resting limit.
    engines.stop_engine("paper")
    broker = engines.engine_folder("paper").path / "simulator-orders.json"
    book = json.loads(broker.read_text())
    book["orders"].append(
        {"broker_id": -5, "symbol": "MSFT", "quantity": "-3", "order_type": "Limit", "limit_price": 99999.0,
         "stop_price": None, "triggered": False, "filled": "0", "parts": ["3"]}
    )  # fmt: skip
    broker.write_text(json.dumps(book))
    monkeypatch.setitem(engine_config.SIMULATOR_REFERENCE_PRICES, "AAPL", 0.5)
    engines.engine_start("paper")
    run_2 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    assert run_2 != run_1

    # The resting limit fills in run 2, untagged, and lands on its order.
    assert ingested(lambda: order(resting.pk).status == OrderStatus.FILLED), order(resting.pk).status
    filled = order(resting.pk)
    assert filled.filled_quantity == Decimal(5) and filled.avg_fill_price is not None
    assert Position.objects.get(project=project, symbol="AAPL").quantity == Decimal(5)
    assert filled.params["manual_execution"]["run_id"] == run_2
    assert filled.params["manual_execution"]["rehomed_from"]["run_id"] == run_1
    assert filled.broker_order_id == before[resting.pk][1]
    fill_events = ExecutionEvent.objects.filter(order=filled, run_id=run_2)
    # The engine's lines are untagged; the ingest gave them the tag of the order re-homed to (run 2, id).
    assert fill_events.exists() and {event.payload["tag"] for event in fill_events} == {""}
    assert set(fill_events.values_list("tag", flat=True)) == {filled.client_order_id}
    rehomed = AuditLog.objects.get(order=filled, action="order_rehomed")
    assert rehomed.detail["from_run_id"] == run_1 and rehomed.detail["to_run_id"] == run_2

    # The other order belongs to run 2 as well: its cancel addresses run 2's order id and cancels it.
    moved = order(other.pk)
    assert moved.params["manual_execution"]["run_id"] == run_2 and moved.ib_order_id is not None
    assert actions.order_cancel_request(order=moved).requested
    assert other.pk in cancels_send_pending(mode="paper")
    assert ingested(lambda: order(other.pk).status == OrderStatus.CANCELED), order(other.pk).status

    # The TWS order: listed as unmatched with the reason, never attached.
    rows = {row.engine_order_id: row for row in EngineOpenOrder.objects.filter(run_id=run_2)}
    assert sorted(row.outcome for row in rows.values()) == ["matched", "matched", "unmatched"]
    tws = next(row for row in rows.values() if row.outcome == "unmatched")
    assert tws.order is None and tws.broker_ids == ["-5"] and tws.side == "SELL" and tws.quantity == 3
    assert "no working paper desk order has broker id -5" in tws.reason
    client = Client()
    client.force_login(admin_user)
    paper = next(e for e in client.get("/api/trade/engines").json() if e["mode"] == "paper")
    assert [(o["broker_ids"], o["symbol"], o["reason"]) for o in paper["unmatched_open_orders"]] == [
        (["-5"], "MSFT", tws.reason)
    ]
    assert client.get("/admin/execution/engineopenorder/").status_code == 200
    engines.stop_engine("paper")
