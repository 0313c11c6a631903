"""Modifying a working trailing stop's trailing amount and a limit if touched's trigger: checked like a new
order's, pending until the engine's UpdateSubmitted, dropped as any modify's; a field of another type is refused.

LEAN applies both (TrailingStopOrder.cs:104-111, LimitIfTouchedOrder.cs:99-111@24863901) and the IB plugin sends
them again as AuxPrice / TrailingPercent (InteractiveBrokersBrokerage.cs:3050-3076@d154917): excerpts in
tests/fixtures/lean/update-order-types-excerpt.json and tests/fixtures/ib/update-order-types-excerpt.json."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from execution.ingest.events import apply_execution_events
from orders.errors import OrderValidationError, RiskRejected
from orders.models import AuditLog, OrderStatus, TradeOrder
from orders.services.audit import Actor
from orders.services.modify import order_modify_clear, order_modify_record, order_modify_reject
from tests.factories import TradeOrderFactory, UserFactory
from tests.orders.services.test_modify import event

pytestmark = pytest.mark.django_db

WORKING: dict[str, Any] = {
    "status": OrderStatus.SUBMITTED, "dispatched_at": timezone.now(), "quantity": Decimal(10),
    "params": {"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
}  # fmt: skip


def trailing_stop(project: Any, **fields: Any) -> TradeOrder:
    """A SELL TRAIL 10 by 2.00 whose current stop the engine reported at 188 (engine order 7)."""
    values = {**WORKING, "project": project, "side": "SELL", "order_type": "TRAIL", "ib_order_id": 7,
              "trailing_amount": Decimal(2), "stop_price": Decimal(188), **fields}  # fmt: skip
    return TradeOrderFactory(**values)


def limit_if_touched(project: Any, **fields: Any) -> TradeOrder:
    """A BUY LIT 10 touched at 185, then a limit at 186 (engine order 8)."""
    values = {**WORKING, "project": project, "order_type": "LIT", "ib_order_id": 8, "client_order_id": "oi_lit",
              "trigger_price": Decimal(185), "limit_price": Decimal(186), **fields}  # fmt: skip
    return TradeOrderFactory(**values)


def test_a_new_trailing_amount_waits_as_pending_and_the_engines_update_submitted_applies_it(
    project: Any, user: Any
) -> None:
    order = trailing_stop(project)

    request = order_modify_record(order=order, trailing_amount="1.5", user=user)

    order.refresh_from_db()
    assert request.trailing_amount == Decimal("1.5") and request.trigger_price is None
    assert order.update_pending and order.update_trailing_amount == Decimal("1.5")
    assert order.trailing_amount == 2  # the order's own value until the engine confirms
    assert Decimal(AuditLog.objects.get(action="order_modify").detail["trailing_amount"]) == Decimal("1.5")
    apply_execution_events([event(order, "UpdateSubmitted", 2)], mode="paper")
    order.refresh_from_db()
    assert not order.update_pending and order.update_trailing_amount is None
    # The stop stays the engine's until its next move (TrailingStopOrder.TryUpdateStopPrice).
    assert (order.trailing_amount, order.stop_price) == (Decimal("1.5"), Decimal(188))


def test_a_percent_trailing_stops_new_amount_is_a_percent_below_100(project: Any, user: Any) -> None:
    order = trailing_stop(project, trailing_amount=Decimal("2.5"), trailing_as_percent=True)
    with pytest.raises(OrderValidationError) as caught:
        order_modify_record(order=order, trailing_amount="100", user=user)
    assert caught.value.errors == {"trailing_amount": "a trailing percent must be below 100"}
    # A percent is no price: off the cent is fine.
    assert order_modify_record(order=order, trailing_amount="1.25", user=user).trailing_amount == Decimal(
        "1.25"
    )


def test_a_new_trigger_waits_as_pending_and_becomes_the_orders_with_its_limit(
    project: Any, user: Any
) -> None:
    order = limit_if_touched(project)

    order_modify_record(order=order, trigger_price="184.5", limit_price="185.5", user=user)

    order.refresh_from_db()
    assert (order.update_trigger_price, order.update_limit_price) == (Decimal("184.5"), Decimal("185.5"))
    apply_execution_events([event(order, "UpdateSubmitted", 2)], mode="paper")
    order.refresh_from_db()
    assert (order.trigger_price, order.limit_price, order.update_trigger_price) == (
        Decimal("184.5"),
        Decimal("185.5"),
        None,
    )


@pytest.mark.parametrize(
    ("kind", "values", "errors"),
    [
        (
            "TRAIL",
            {"trigger_price": "187"},
            {"trigger_price": "only a limit-if-touched order has a trigger price"},
        ),
        ("TRAIL", {"stop_price": "190"}, {"stop_price": "only a stop order has a stop price"}),
        ("LIT", {"trailing_amount": "1"}, {"trailing_amount": "only a trailing stop has a trailing amount"}),
        ("LMT", {"trailing_amount": "1"}, {"trailing_amount": "only a trailing stop has a trailing amount"}),
        (
            "STP",
            {"trigger_price": "1"},
            {"trigger_price": "only a limit-if-touched order has a trigger price"},
        ),
        ("TRAIL", {"trailing_amount": "0"}, {"trailing_amount": "must be greater than 0"}),
        ("TRAIL", {"trailing_amount": "2"}, {"quantity": "nothing to change: give a new quantity or price"}),
        ("TRAIL", {"trailing_amount": "1.005"}, {"trailing_amount": "must be on the tick of 0.01"}),
        ("LIT", {"trigger_price": "184.555"}, {"trigger_price": "must be on the tick of 0.01"}),
        ("LIT", {"trigger_price": "abc"}, {"trigger_price": "must be a number"}),
    ],
)
def test_a_field_the_orders_type_does_not_have_or_a_bad_value_is_refused_naming_it(
    project: Any, user: Any, kind: str, values: dict[str, str], errors: dict[str, str]
) -> None:
    order = {
        "TRAIL": lambda: trailing_stop(project),
        "LIT": lambda: limit_if_touched(project),
        "LMT": lambda: TradeOrderFactory(project=project, order_type="LMT", limit_price=Decimal(100), ib_order_id=9,
                                         **WORKING),
        "STP": lambda: TradeOrderFactory(project=project, order_type="STP", stop_price=Decimal(200), ib_order_id=9,
                                         **WORKING),
    }[kind]()  # fmt: skip
    with pytest.raises(OrderValidationError) as caught:
        order_modify_record(order=order, user=user, **values)
    assert caught.value.errors == errors
    assert not TradeOrder.objects.get(pk=order.pk).update_pending


def test_an_order_placed_off_the_tick_before_the_rule_can_still_change_another_field(
    project: Any, user: Any
) -> None:
    order = limit_if_touched(project, limit_price=Decimal("186.005"))
    assert order_modify_record(order=order, trigger_price="184", user=user).trigger_price == 184


def test_a_limit_if_touched_modify_is_risk_checked_at_its_new_limit(project: Any, user: Any) -> None:
    # A LIT is valued at its limit: a new limit that takes it past the project's notional limit is refused.
    project.max_order_notional = Decimal(1900)
    project.save()
    order = limit_if_touched(project, limit_price=Decimal(180))
    with pytest.raises(RiskRejected, match="order value"):
        order_modify_record(order=order, trigger_price="189", limit_price="195", user=user)


def test_a_refused_failed_or_cleared_update_drops_the_pending_trigger_and_trailing_amount(
    project: Any, user: Any
) -> None:
    trail, lit = trailing_stop(project), limit_if_touched(project)
    order_modify_record(order=trail, trailing_amount="3", user=user)
    order_modify_record(order=lit, trigger_price="184", user=user)
    order_modify_reject(order=trail, message="refused by the engine, see engine.log")
    apply_execution_events([event(lit, "Submitted", 2, "Brokerage failed to update order")], mode="paper")
    for order, values in ((trail, (Decimal(2), None)), (lit, (None, Decimal(185)))):
        order.refresh_from_db()
        assert not order.update_pending
        assert (order.update_trailing_amount, order.update_trigger_price) == (None, None)
        assert (order.trailing_amount, order.trigger_price) == values

    order_modify_record(order=trail, trailing_amount="3", user=user)
    lead = UserFactory(username="lead", is_staff=True)
    cleared = order_modify_clear(order=trail, reason="IB shows 2.00", actor=Actor(user=lead))
    assert (cleared.update_trailing_amount, cleared.trailing_amount) == (None, Decimal(2))
    detail = AuditLog.objects.get(action="order_update_cleared").detail
    assert (Decimal(detail["trailing_amount"]), detail["trigger_price"]) == (Decimal(3), None)
