"""A modify of a trailing stop's trailing amount and a limit if touched's trigger on the simulator, as LEAN applies
them (TrailingStopOrder.cs:104-111, LimitIfTouchedOrder.cs:99-111@24863901; the fill models read them at the
next price: FillModel.cs:461-466, EquityFillModel.cs:81,99)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.execution.simulator.test_simulator_order_types import book, events, script


def test_a_tighter_trail_leaves_the_stop_until_the_next_price_moves_it_by_the_new_amount(
    tmp_path: Path,
) -> None:
    engine = book(tmp_path)
    step = script(engine, [100.0, 100.5, 99.4])
    engine.place_order("t1", "AAPL", Decimal(-5), "TrailingStop", None, trailing=(Decimal(5), False))
    order = next(iter(engine.orders.values()))
    assert order.stop_price == 95.0

    ok, message = engine.update_order(order.order_id, None, None, None, trailing=Decimal(1))

    assert ok, message
    assert (order.trailing_amount, order.stop_price) == (1.0, 95.0)  # the stop stays where it was
    step()  # 100.5: more than the new 1 above the stop, so the stop follows to 99.5
    step()  # 99.4: below it, the stop fills
    lines = events(engine, "t1")
    assert [(e["status"], e.get("stop_price")) for e in lines] == [
        ("Submitted", 95),
        ("UpdateSubmitted", 95),
        ("Submitted", 99.5),
        ("Filled", 99.5),
    ]
    assert (
        lines[1]["message"] == "Updated by UpdateOrderCommand: quantity -5 limit None stop 95.0 trailing 1.0"
    )
    assert lines[-1]["fill_price"] == 99.4


def test_a_looser_trail_keeps_the_stop_until_the_market_rises_past_the_new_amount(tmp_path: Path) -> None:
    engine = book(tmp_path)
    step = script(engine, [100.0, 101.0, 104.0])
    engine.place_order("t2", "AAPL", Decimal(-1), "TrailingStop", None, trailing=(Decimal(1), False))
    order = next(iter(engine.orders.values()))

    engine.update_order(order.order_id, None, None, None, trailing=Decimal(3))
    step()  # 101: 2 above the stop of 99, not more than 3
    assert order.stop_price == 99.0
    step()  # 104: 5 above it
    assert order.stop_price == 101.0


def test_a_buy_limit_if_touched_moved_to_its_trigger_is_touched_and_fills_at_its_limit_or_better(
    tmp_path: Path,
) -> None:
    engine = book(tmp_path)
    step = script(engine, [100.0, 100.0])
    engine.place_order("l1", "AAPL", Decimal(3), "LimitIfTouched", Decimal(105), trigger_price=Decimal(90))
    order = next(iter(engine.orders.values()))
    step()  # 100 is above the buy's trigger of 90: it waits
    assert not order.triggered

    ok, _ = engine.update_order(order.order_id, None, None, None, trigger=Decimal("100.5"))

    assert ok and order.trigger_price == 100.5
    step()
    lines = events(engine, "l1")
    assert [e["status"] for e in lines] == ["Submitted", "UpdateSubmitted", "Filled"]
    assert lines[1]["message"].endswith("limit 105.0 stop None trigger 100.5")
    assert lines[-1]["fill_price"] == 100.0


def test_a_touched_limit_if_touched_is_a_limit_order_its_new_trigger_changes_nothing(tmp_path: Path) -> None:
    engine = book(tmp_path)
    step = script(engine, [100.0, 96.0])
    engine.place_order("l2", "AAPL", Decimal(3), "LimitIfTouched", Decimal(95), trigger_price=Decimal(101))
    order = next(iter(engine.orders.values()))
    step()  # 100: touched (at or below 101), but above the limit of 95
    assert order.triggered

    engine.update_order(order.order_id, None, None, None, trigger=Decimal(50))
    step()  # 96: still a working limit at 95, whatever the trigger says now
    assert order.triggered and order.status == "UpdateSubmitted" and order.filled == 0


def test_a_trigger_or_trailing_amount_changes_only_an_order_that_has_one(tmp_path: Path) -> None:
    # As LEAN's ApplyUpdateOrderRequest: a limit order has neither, so neither changes (tradedesk refuses both).
    engine = book(tmp_path)
    engine.place_order("k1", "AAPL", Decimal(1), "Limit", Decimal(1))
    order = next(iter(engine.orders.values()))

    ok, _ = engine.update_order(order.order_id, None, None, None, trigger=Decimal(2), trailing=Decimal(1))

    assert ok and (order.trigger_price, order.trailing_amount, order.limit_price) == (None, None, 1.0)


def test_a_trailing_amount_or_trigger_of_zero_is_refused_without_an_event(tmp_path: Path) -> None:
    engine = book(tmp_path)
    script(engine, [100.0])
    engine.place_order("t3", "AAPL", Decimal(-1), "TrailingStop", None, trailing=(Decimal(1), False))
    order = next(iter(engine.orders.values()))

    ok, message = engine.update_order(order.order_id, None, None, None, trailing=Decimal(0))

    assert not ok and "trailing amount price 0 must be positive" in message
    assert [e["status"] for e in events(engine, "t3")] == ["Submitted"]
