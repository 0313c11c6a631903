"""tradedesk places and sizes the legs of a group no engine run holds, once, on PostgreSQL with real threads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orders.models import AuditLog, BracketRole, OrderStatus, TradeOrder
from orders.services import ReloadedOrder, order_rehome
from orders.services.bracket_desk import DeskLegs, bracket_desk_legs
from tests.orders.services.test_brackets import Engine, bracket, legs
from tests.test_concurrency import in_parallel, reload

pytestmark = [pytest.mark.django_db(transaction=True)]

RUN_2 = "r-bracket-2"


def rehome(order: TradeOrder, engine_order_id: int) -> None:
    """The new run's open-orders entry for this order, re-homed (as the ingest's open-orders line does)."""
    order = reload(order)
    result = order_rehome(
        reloaded=ReloadedOrder(
            mode=order.mode, run_id=RUN_2, engine_order_id=engine_order_id, broker_ids=(order.broker_order_id,),
            symbol=order.symbol, side=order.side, quantity=order.quantity,
        )
    )  # fmt: skip
    assert result.matched, result.reason


def decide_in_parallel(run_id: str | None) -> list[DeskLegs]:
    return in_parallel(4, lambda _index: bracket_desk_legs(mode="paper", run_id=run_id))


def test_parallel_passes_place_each_held_leg_of_a_re_homed_entry_once_for_what_filled(
    project: Any, user: Any
) -> None:
    entry = bracket(project, user)
    children = legs(entry)
    engine = Engine()
    engine.apply(engine.line(entry, "Submitted"))
    rehome(entry, engine_order_id=1)
    # The new run does not hold the group: the entry's fill there leaves both legs HELD for tradedesk.
    engine.apply(engine.line(entry, "PartiallyFilled", 4, "50"))
    assert {reload(child).status for child in children.values()} == {OrderStatus.HELD}

    results = decide_in_parallel(run_id=RUN_2)

    placed = sorted(order_id for result in results for order_id in result.dispatch)
    assert placed == sorted(child.pk for child in children.values())
    for child in children.values():
        child = reload(child)
        assert (child.status, child.quantity, child.dispatched_at) == (OrderStatus.NEW, Decimal(4), None)
        assert child.params["bracket_placed_by"] == "tradedesk" and "manual_execution" not in child.params
        assert AuditLog.objects.filter(order=child, action="bracket_leg_placed").count() == 1


def test_parallel_passes_resize_each_working_leg_of_a_re_homed_group_once_and_the_row_waits_for_the_engine(
    project: Any, user: Any
) -> None:
    entry = bracket(project, user)
    take, stop = legs(entry)[BracketRole.TAKE_PROFIT], legs(entry)[BracketRole.STOP_LOSS]
    engine = Engine()
    # Run 1 held the group: its legs were placed for the first 2 filled.
    engine.apply(
        engine.line(entry, "Submitted"), engine.line(entry, "PartiallyFilled", 2, "50"),
        engine.line(take, "Submitted"), engine.line(stop, "Submitted"),
    )  # fmt: skip
    for engine_order_id, order in enumerate((entry, take, stop), start=1):
        rehome(order, engine_order_id=engine_order_id)
    engine.apply(engine.line(entry, "PartiallyFilled", 3, "50"))
    # The desk rows keep the legs' size at the broker (a later re-homing matches) until the resize is confirmed.
    assert (reload(take).quantity, reload(stop).quantity) == (2, 2)

    results = decide_in_parallel(run_id=RUN_2)

    resized = sorted(leg.pk for result in results for leg in result.resize)
    assert resized == sorted((take.pk, stop.pk))
    for leg in (take, stop):
        leg = reload(leg)
        assert (leg.update_pending, leg.update_quantity, leg.quantity) == (True, Decimal(5), Decimal(2))
        assert AuditLog.objects.filter(order=leg, action="bracket_leg_resize").count() == 1
    # The engine's UpdateSubmitted confirms it: the rows are the broker's size again.
    engine.apply(engine.line(take, "UpdateSubmitted"), engine.line(stop, "UpdateSubmitted"))
    assert (reload(take).quantity, reload(stop).quantity) == (5, 5)
    assert not reload(take).update_pending


def test_a_run_that_does_not_hold_the_leg_gets_no_resize(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    take = legs(entry)[BracketRole.TAKE_PROFIT]
    engine = Engine()
    engine.apply(engine.line(entry, "Submitted"), engine.line(entry, "PartiallyFilled", 2, "50"),
                 engine.line(take, "Submitted"))  # fmt: skip
    rehome(entry, engine_order_id=1)
    engine.apply(engine.line(entry, "PartiallyFilled", 3, "50"))
    # The take profit was not re-homed (it still names run 1): no command can reach it.
    assert bracket_desk_legs(mode="paper", run_id=RUN_2).resize == []
    assert bracket_desk_legs(mode="paper", run_id=None).resize == []
    assert not reload(take).update_pending


def test_a_group_the_engine_still_holds_is_left_to_it(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    engine = Engine()
    engine.apply(engine.line(entry, "Submitted"), engine.line(entry, "PartiallyFilled", 4, "50"))
    decided = bracket_desk_legs(mode="paper", run_id="r-bracket")
    assert (decided.dispatch, decided.resize) == ([], [])
    assert {child.status for child in legs(entry).values()} == {OrderStatus.HELD}
