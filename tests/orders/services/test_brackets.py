"""Brackets: the entry and its HELD children at entry, the ledger sizing them and the OCO safety net."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from execution.ingest.events import apply_execution_events
from orders.errors import OrderValidationError, RiskRejected
from orders.models import BracketRole, BracketState, OrderStatus, Position, TradeOrder
from orders.services import create_trade_order, update_trade_order_status
from orders.services.risk import _pending_reduction

pytestmark = pytest.mark.django_db

RUN = "r-bracket"


def bracket(project: Any, user: Any, **fields: Any) -> TradeOrder:
    """A BUY 10 KO LMT 50 bracket entry (source test: never handed to an engine)."""
    payload = {"project_id": project.pk, "symbol": "KO", "side": "BUY", "quantity": 10, "order_type": "LMT",
               "limit_price": "50", "take_profit_price": "55", "stop_loss_price": "45", **fields}  # fmt: skip
    return create_trade_order(payload, user=user, source="test").order


def legs(entry: TradeOrder) -> dict[str, TradeOrder]:
    return {child.bracket_role: child for child in TradeOrder.objects.filter(parent=entry)}


class Engine:
    """Event lines as the engine writes them, numbered per order (one run)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.events: dict[str, int] = {}

    def line(
        self, order: TradeOrder, status: str, filled: int = 0, price: str = "0", **marks: Any
    ) -> dict[str, Any]:
        order_id = self.ids.setdefault(order.client_order_id, len(self.ids) + 1)
        self.events[order.client_order_id] = self.events.get(order.client_order_id, 0) + 1
        number = self.events[order.client_order_id]
        return {"tag": order.client_order_id, "status": status, "order_id": order_id, "event_id": number,
                "run_id": RUN, "symbol": order.symbol, "time": f"2026-12-07T15:00:{len(self.events):02d}.{number:03d}Z",
                "filled": filled, "fill_price": float(price), "fee": 0, "fee_currency": "USD", "message": "",
                "broker_ids": [str(1000 + order_id)], **marks}  # fmt: skip

    def apply(self, *lines: dict[str, Any]) -> None:
        apply_execution_events(list(lines), source="test", mode="paper")


def test_a_bracket_is_an_entry_with_held_children_on_the_other_side(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    assert (entry.bracket_role, entry.bracket_state) == (BracketRole.ENTRY, BracketState.OPEN)
    children = legs(entry)
    take, stop = children[BracketRole.TAKE_PROFIT], children[BracketRole.STOP_LOSS]
    assert (take.side, take.order_type, take.limit_price, take.status) == ("SELL", "LMT", Decimal(55), "HELD")
    assert (stop.side, stop.order_type, stop.stop_price, stop.status) == ("SELL", "STP", Decimal(45), "HELD")
    assert take.quantity == stop.quantity == Decimal(10)
    assert (
        take.client_order_id.startswith(entry.client_order_id)
        and take.client_order_id != stop.client_order_id
    )


def test_offsets_count_from_the_entry_price_on_each_side(project: Any, user: Any) -> None:
    entry = bracket(project, user, side="SELL", take_profit_price=None, stop_loss_price=None,
                    take_profit_offset="2.5", stop_loss_offset="1")  # fmt: skip
    children = legs(entry)
    assert children[BracketRole.TAKE_PROFIT].limit_price == Decimal("47.5")
    assert children[BracketRole.STOP_LOSS].stop_price == Decimal(51)


@pytest.mark.parametrize(
    ("fields", "blamed"),
    [
        ({"take_profit_price": "49"}, "take_profit_price"),
        ({"stop_loss_price": "51"}, "stop_loss_price"),
        ({"take_profit_offset": "1"}, "take_profit_offset"),
        ({"stop_loss_price": "45.001"}, "stop_loss_price"),
    ],
)
def test_a_leg_on_the_wrong_side_or_given_twice_is_refused_and_nothing_is_stored(
    project: Any, user: Any, fields: dict[str, Any], blamed: str
) -> None:
    with pytest.raises(OrderValidationError) as refused:
        bracket(project, user, **fields)
    assert blamed in refused.value.errors
    assert not TradeOrder.objects.exists()


def test_partial_fills_of_the_entry_grow_the_children(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    children = legs(entry)
    take, stop = children[BracketRole.TAKE_PROFIT], children[BracketRole.STOP_LOSS]
    engine = Engine()
    engine.apply(engine.line(entry, "Submitted"), engine.line(entry, "PartiallyFilled", 4, "50"))
    assert {c.status: c.quantity for c in legs(entry).values()} == {"HELD": Decimal(4)}
    engine.apply(engine.line(take, "Submitted"), engine.line(stop, "Submitted"))
    engine.apply(engine.line(entry, "Filled", 6, "50"),
                 engine.line(take, "UpdateSubmitted", bracket_resize=True))  # fmt: skip
    assert [(c.status, c.quantity) for c in legs(entry).values()] == [("SUBMITTED", Decimal(10))] * 2


def test_a_take_profit_fill_cancels_the_stop_loss_the_engine_left_working(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    take, stop = legs(entry)[BracketRole.TAKE_PROFIT], legs(entry)[BracketRole.STOP_LOSS]
    engine = Engine()
    engine.apply(engine.line(entry, "Filled", 10, "50"), engine.line(take, "Submitted"),
                 engine.line(stop, "Submitted"), engine.line(take, "Filled", 10, "55"))  # fmt: skip
    stop.refresh_from_db()
    assert stop.cancel_requested_at is not None and stop.status == OrderStatus.SUBMITTED
    assert Position.objects.get(project=project, symbol="KO").quantity == 0


def test_both_legs_filled_flags_the_group_and_the_position_shows_the_overfill(
    project: Any, user: Any
) -> None:
    entry = bracket(project, user)
    take, stop = legs(entry)[BracketRole.TAKE_PROFIT], legs(entry)[BracketRole.STOP_LOSS]
    engine = Engine()
    engine.apply(engine.line(entry, "Filled", 10, "50"), engine.line(take, "Submitted"),
                 engine.line(stop, "Submitted"), engine.line(take, "Filled", 10, "55"),
                 engine.line(stop, "Filled", 10, "45"))  # fmt: skip
    entry.refresh_from_db()
    assert entry.bracket_overfilled and "BRACKET_OVERFILL" in entry.flags
    assert Position.objects.get(project=project, symbol="KO").quantity == Decimal(-10)


def test_a_resize_never_confirms_a_pending_modify_of_the_child(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    take = legs(entry)[BracketRole.TAKE_PROFIT]
    engine = Engine()
    engine.apply(engine.line(entry, "PartiallyFilled", 4, "50"), engine.line(take, "Submitted"))
    TradeOrder.objects.filter(pk=take.pk).update(
        update_pending=True, update_limit_price=Decimal(56), update_requested_at=entry.created_at
    )
    engine.apply(
        engine.line(entry, "Filled", 6, "50"), engine.line(take, "UpdateSubmitted", bracket_resize=True)
    )
    take.refresh_from_db()
    assert take.update_pending and take.limit_price == Decimal(55) and take.quantity == Decimal(10)


def test_an_entry_that_ends_without_a_fill_cancels_its_held_children(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    update_trade_order_status(entry, OrderStatus.CANCELED, message="canceled")
    assert {child.status for child in legs(entry).values()} == {OrderStatus.CANCELED}


def test_siblings_count_once_in_the_working_limit_and_in_reduce_only(project: Any, user: Any) -> None:
    entry = bracket(project, user)
    take, stop = legs(entry)[BracketRole.TAKE_PROFIT], legs(entry)[BracketRole.STOP_LOSS]
    engine = Engine()
    engine.apply(engine.line(entry, "Filled", 10, "50"), engine.line(take, "Submitted"),
                 engine.line(stop, "Submitted"))  # fmt: skip
    assert _pending_reduction(project=project, symbol="KO", side="SELL", exclude_order_id=None) == Decimal(10)
    project.max_working_orders = 2
    project.save()
    create_trade_order({"project_id": project.pk, "symbol": "KO", "side": "SELL", "quantity": 1,
                        "order_type": "LMT", "limit_price": "52"}, user=user, source="test")  # fmt: skip
    with pytest.raises(RiskRejected):
        create_trade_order({"project_id": project.pk, "symbol": "KO", "side": "SELL", "quantity": 1,
                            "order_type": "LMT", "limit_price": "53"}, user=user, source="test")  # fmt: skip
