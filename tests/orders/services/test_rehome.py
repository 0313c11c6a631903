"""order_rehome: a reloaded order attaches to the one working desk order whose broker id, symbol, side and
quantity all agree, under the order's lock; anything else stays unmatched with the reason.

IB reuses order ids after a gateway restart and LEAN carries no permanent id (no PermId in the IB plugin's
InteractiveBrokersBrokerage.cs@d154917: tests/fixtures/lean/reloaded-orders-excerpt.json), so the id alone
never attaches."""

from __future__ import annotations

import json
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from orders.models import AuditLog, OrderFlag, OrderStatus, TradeOrder
from orders.services import ReloadedOrder, order_rehome
from tests.factories import TradeOrderFactory
from tests.test_concurrency import in_parallel

EXCERPT = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "reloaded-orders-excerpt.json"


def desk_order(project: Any, **fields: Any) -> TradeOrder:
    values: dict[str, Any] = {
        "symbol": "AAPL", "side": "BUY", "quantity": Decimal(5), "order_type": "LMT",
        "limit_price": Decimal("100.00"), "status": OrderStatus.SUBMITTED, "ib_order_id": 3,
        "broker_order_id": "1007",
        "params": {"source": "test", "mode": "paper", "manual_execution": {"run_id": "r-1", "handover": "command"}},
        **fields,
    }  # fmt: skip
    return TradeOrderFactory(project=project, **values)


def reloaded(**fields: Any) -> ReloadedOrder:
    values: dict[str, Any] = {
        "mode": "paper", "run_id": "r-2", "engine_order_id": 1, "broker_ids": ("1007",), "symbol": "AAPL",
        "side": "BUY", "quantity": Decimal(5), "order_type": "Limit", "limit_price": Decimal("100.00"),
        **fields,
    }  # fmt: skip
    return ReloadedOrder(**values)


def test_the_plugin_carries_no_permanent_id() -> None:
    checked = json.loads(EXCERPT.read_text())["_source"]["checked"]
    assert (
        checked[
            "PermId occurrences in QuantConnect.InteractiveBrokersBrokerage/InteractiveBrokersBrokerage.cs"
        ]
        == 0
    )


@pytest.mark.django_db
def test_an_agreeing_order_is_re_homed_to_the_new_run(project: Any) -> None:
    order = desk_order(project, flag=OrderFlag.ENGINE_DOWN, flag_message="engine down")

    result = order_rehome(reloaded=reloaded())

    assert result.matched and result.order_id == order.pk and result.previous_run_id == "r-1"
    order.refresh_from_db()
    assert order.params["manual_execution"]["run_id"] == "r-2" and order.ib_order_id == 1
    assert order.params["manual_execution"]["rehomed_from"]["engine_order_id"] == 3
    assert order.flag == "" and not order.is_unknown
    assert AuditLog.objects.filter(order=order, action="order_rehomed").count() == 1
    # Read again (a replay of the line): matched, nothing changes, no second audit entry.
    assert order_rehome(reloaded=reloaded()).order_id == order.pk
    assert AuditLog.objects.filter(order=order, action="order_rehomed").count() == 1


@pytest.mark.django_db
def test_a_cancel_the_old_run_never_carried_out_is_sent_again(project: Any) -> None:
    from django.utils import timezone

    now = timezone.now()
    order = desk_order(
        project, status=OrderStatus.CANCEL_PENDING, cancel_requested_at=now, cancel_sent_at=now
    )
    assert order_rehome(reloaded=reloaded()).matched
    order.refresh_from_db()
    assert order.cancel_requested_at is not None and order.cancel_sent_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"quantity": Decimal(6)}, "symbol, side or quantity differ"),
        ({"side": "SELL"}, "symbol, side or quantity differ"),
        ({"symbol": "MSFT"}, "symbol, side or quantity differ"),
        ({"broker_ids": ("-5",)}, "no working paper desk order has broker id -5"),
        ({"broker_ids": ()}, "no broker id"),
        ({"mode": "live"}, "no working live desk order has broker id 1007"),
    ],
)
def test_anything_that_does_not_agree_stays_unmatched(project: Any, change: dict[str, Any], why: str) -> None:
    order = desk_order(project)
    result = order_rehome(reloaded=reloaded(**change))
    assert not result.matched and why in result.reason
    order.refresh_from_db()
    assert order.params["manual_execution"]["run_id"] == "r-1" and order.ib_order_id == 3


@pytest.mark.django_db
def test_two_agreeing_orders_attach_neither(project: Any) -> None:
    desk_order(project)
    desk_order(project)
    result = order_rehome(reloaded=reloaded())
    assert not result.matched and "agree with 2 desk orders" in result.reason


@pytest.mark.django_db
def test_a_final_order_is_never_re_homed(project: Any) -> None:
    desk_order(project, status=OrderStatus.FILLED, filled_quantity=Decimal(5), filled_notional=Decimal(500),
               avg_fill_price=Decimal(100))  # fmt: skip
    assert not order_rehome(reloaded=reloaded()).matched


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_parallel_re_homes_of_one_order_are_serialized(project: Any) -> None:
    order = desk_order(project)

    results = in_parallel(
        8, lambda i: order_rehome(reloaded=reloaded(run_id=f"r-{10 + i}", engine_order_id=20 + i))
    )

    assert all(result.matched for result in results)
    order.refresh_from_db()
    audits = list(AuditLog.objects.filter(order=order, action="order_rehomed").order_by("id"))
    assert len(audits) == 8
    # Each re-home saw the one before it (no lost update): the audit trail is one chain from r-1 ...
    pairs = [(a.detail["from_run_id"], a.detail["from_engine_order_id"], a.detail["to_run_id"],
              a.detail["to_engine_order_id"]) for a in audits]  # fmt: skip
    assert pairs[0][:2] == ("r-1", 3)
    assert all(earlier[2:] == later[:2] for earlier, later in pairwise(pairs))
    # ... ending at the order's run and id, a pair one re-home wrote together.
    assert (order.params["manual_execution"]["run_id"], order.ib_order_id) == pairs[-1][2:]
    assert int(pairs[-1][2].removeprefix("r-")) + 10 == pairs[-1][3]
