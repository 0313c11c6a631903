"""The simulator's trailing stop, market on close and limit if touched fill as LEAN's fill models do
(tests/fixtures/lean/order-types-excerpt.json: FillModel.cs, TrailingStopOrder.cs, QCAlgorithm.Trading.cs)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution import simulator
from execution.contract import market_hours
from execution.simulator.fills import fill_price, trail, trailing_stop_price
from tests.execution.simulator.harness import (  # noqa: F401 (start_engine is a fixture)
    Engine,
    intent,
    order_command,
    start_engine,
)

# A Monday in New York (EST): 15:00, inside the MarketOnClose buffer at 15:50, the close at 16:00.
BEFORE_CUTOFF = "2026-12-07T20:00:00Z"
INSIDE_BUFFER = "2026-12-07T20:50:00Z"
AT_CLOSE = "2026-12-07T21:00:00Z"


def book(tmp_path: Path, clock: str = BEFORE_CUTOFF, hours: str = "always") -> simulator.Simulator:
    config = simulator.SimulatorConfig(
        market_hours=hours,
        workdir=tmp_path,
        events_file=tmp_path / "events.jsonl",
        intent_file=None,
        run_id="r-types",
        fill_delay=0.0,
        partial_fills=1,
        clock=clock,
    )
    return simulator.Simulator(config)


def script(engine: simulator.Simulator, prices: list[float]) -> Callable[[], None]:
    """The walk replaced by `prices`, one per attempt; returns a step that works the orders once."""
    walk: Iterator[float] = iter(prices)
    engine.prices.next_price = lambda symbol: next(walk)  # type: ignore[method-assign]
    return engine.work_orders


def events(engine: simulator.Simulator, tag: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in engine.config.events_file.read_text().splitlines()]
    return [line for line in lines if line.get("tag") == tag]


def test_a_sell_trailing_stop_ratchets_up_with_the_market_and_fills_when_it_falls_back(
    tmp_path: Path,
) -> None:
    engine = book(tmp_path)
    step = script(engine, [100.0, 101.0, 103.0, 102.5, 101.9, 100.9])
    ok, _ = engine.place_order("t1", "AAPL", Decimal(-5), "TrailingStop", None, trailing=(Decimal(1), False))
    assert ok
    order = next(iter(engine.orders.values()))
    assert order.stop_price == 99.0  # from the price at placement (QCAlgorithm.Trading.cs:585-591)
    for _ in range(4):
        step()  # 101 -> stop 100, 103 -> 102, 102.5 and 101.9 above 102? no: 101.9 fills
    lines = events(engine, "t1")
    assert [(e["status"], e.get("stop_price")) for e in lines] == [
        ("Submitted", 99),
        ("Submitted", 100),
        ("Submitted", 102),
        ("Filled", 102),
    ]
    assert lines[-1]["fill_price"] == 101.9 and lines[-1]["filled"] == 5
    assert lines[1]["message"] == "trailing stop moved to 100.0"


def test_a_buy_trailing_stop_by_percent_follows_the_market_down(tmp_path: Path) -> None:
    engine = book(tmp_path)
    step = script(engine, [200.0, 190.0, 195.0, 199.6])
    # LEAN's fraction: 0.02 is 2 %.
    engine.place_order("t2", "AAPL", Decimal(3), "TrailingStop", None, trailing=(Decimal("0.02"), True))
    order = next(iter(engine.orders.values()))
    assert order.stop_price == 204.0
    step()  # 190: 204 - 190 = 14 > 3.8 -> 193.8
    assert order.stop_price == 193.8
    step()  # 195 >= 193.8: filled
    assert [e["status"] for e in events(engine, "t2")] == ["Submitted", "Submitted", "Filled"]
    assert events(engine, "t2")[-1]["fill_price"] == 195.0


def test_the_ratchet_is_leans_try_update_stop_price() -> None:
    @dataclasses.dataclass
    class Trailing:
        quantity: Decimal = Decimal(-1)
        order_type: str = "TrailingStop"
        limit_price: float | None = None
        stop_price: float | None = 95.0
        trailing_amount: float | None = 5.0
        trailing_as_percent: bool = False
        trigger_price: float | None = None
        triggered: bool = False

    order = Trailing()
    assert trail(order, 100.0) is False  # the distance is exactly the trailing amount: no move
    assert trail(order, 100.5) is True and order.stop_price == 95.5
    assert trail(order, 99.0) is False and order.stop_price == 95.5  # never back
    assert fill_price(order, 95.6) is None
    assert fill_price(order, 95.5) == 95.5 and order.triggered
    assert trailing_stop_price(price=50.0, amount=0.1, as_percent=True, buy=False) == 45.0


def test_a_limit_if_touched_buy_waits_for_its_trigger_then_works_as_a_limit(tmp_path: Path) -> None:
    engine = book(tmp_path)
    step = script(engine, [101.0, 99.5, 100.2, 99.9])
    engine.place_order(
        "l1", "AAPL", Decimal(2), "LimitIfTouched", Decimal(100), trigger_price=Decimal("99.5")
    )
    step()  # 101: not touched
    order = next(iter(engine.orders.values()))
    assert not order.triggered
    step()  # 99.5 touches the trigger and is below the limit: filled at 99.5
    lines = events(engine, "l1")
    assert [e["status"] for e in lines] == ["Submitted", "Filled"] and lines[-1]["fill_price"] == 99.5


def test_a_limit_if_touched_sell_touched_but_under_its_limit_waits(tmp_path: Path) -> None:
    engine = book(tmp_path)
    step = script(engine, [105.0, 103.0, 104.5])
    engine.place_order("l2", "AAPL", Decimal(-2), "LimitIfTouched", Decimal(104), trigger_price=Decimal(105))
    step()  # 105 touches, 105 >= 104: filled at 105 (at the limit or better)
    assert events(engine, "l2")[-1]["fill_price"] == 105.0
    engine.place_order("l3", "AAPL", Decimal(-2), "LimitIfTouched", Decimal(104), trigger_price=Decimal(102))
    step()  # 103 touches 102; 103 < 104: waits as a limit
    order = engine.orders[2]
    assert order.triggered and order.status == "Submitted"
    step()  # 104.5 >= 104
    assert events(engine, "l3")[-1]["status"] == "Filled" and events(engine, "l3")[-1]["fill_price"] == 104.5


@pytest.mark.parametrize("hours", ["always", "us-equity"])
def test_a_market_on_close_fills_at_the_first_price_of_its_close(tmp_path: Path, hours: str) -> None:
    # A DAY order's session ends at the close: the market on close is the one that fills then.
    engine = book(tmp_path, hours=hours)
    step = script(engine, [190.0, 191.25])
    ok, message = engine.place_order("c1", "AAPL", Decimal(4), "MarketOnClose", None)
    assert ok, message
    order = next(iter(engine.orders.values()))
    assert order.close_at == "2026-12-07T21:00:00+00:00"
    step()
    assert [e["status"] for e in events(engine, "c1")] == ["Submitted"]  # 15:00: waits for 16:00
    engine.config = dataclasses.replace(engine.config, clock=AT_CLOSE)
    step()
    lines = events(engine, "c1")
    assert [e["status"] for e in lines] == ["Submitted", "Filled"] and lines[-1]["fill_price"] == 190.0


def test_a_market_on_close_inside_the_buffer_is_invalid_like_leans_too_late(tmp_path: Path) -> None:
    engine = book(tmp_path, clock=INSIDE_BUFFER)
    ok, message = engine.place_order("c2", "AAPL", Decimal(4), "MarketOnClose", None)
    assert not ok and "15.5 minutes before the close" in message
    assert events(engine, "c2")[-1]["status"] == "Invalid"


def test_the_moc_cutoff_is_leans_buffer_before_the_next_close() -> None:
    excerpts = json.loads(
        (Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "order-types-excerpt.json").read_text()
    )["excerpts"]
    buffer = next(e for e in excerpts if e["path"] == "Common/Orders/MarketOnCloseOrder.cs")
    assert any("TimeSpan.FromMinutes(15.5)" in line for line in buffer["text"])
    assert market_hours.MOC_BUFFER.total_seconds() == 15.5 * 60
    at = market_hours.clock
    assert market_hours.moc_refusal(now=at("2026-12-07T20:44:30Z")) == ""
    assert market_hours.moc_refusal(now=at("2026-12-07T20:44:31Z")) != ""
    assert market_hours.moc_refusal(now=at("2026-12-07T21:00:00Z")) == ""  # the next close is Tuesday's
    # Friday after the close: Monday's close.
    assert market_hours.next_close(at("2026-12-11T21:30:00Z")).isoformat() == "2026-12-14T21:00:00+00:00"


def test_working_trailing_stops_survive_a_restart_with_their_stop(tmp_path: Path) -> None:
    engine = book(tmp_path)
    script(engine, [100.0])
    engine.place_order("t3", "AAPL", Decimal(-1), "TrailingStop", None, trailing=(Decimal("0.5"), True))
    engine.place_order("c3", "AAPL", Decimal(1), "MarketOnClose", None)
    again = book(tmp_path)
    reloaded = {order.order_type: order for order in again.reload_broker_orders()}
    trailing = reloaded["TrailingStop"]
    assert (trailing.stop_price, trailing.trailing_amount, trailing.trailing_as_percent) == (50.0, 0.5, True)
    assert reloaded["MarketOnClose"].close_at == "2026-12-07T21:00:00+00:00"


@pytest.mark.parametrize(
    ("order_type", "extra", "reason"),
    [
        ("TrailingStop", {}, "TrailingStop order needs a positive trailing amount"),
        (
            "LimitIfTouched",
            {"limit_price": Decimal(5)},
            "LimitIfTouched order needs a positive trigger price",
        ),
        (
            "LimitIfTouched",
            {"trigger_price": Decimal(5)},
            "LimitIfTouched order needs a positive limit price",
        ),
    ],
)
def test_missing_fields_are_invalid_orders(
    tmp_path: Path, order_type: str, extra: dict[str, Any], reason: str
) -> None:
    engine = book(tmp_path)
    limit = extra.pop("limit_price", None)
    ok, message = engine.place_order("x", "AAPL", Decimal(1), order_type, limit, **extra)
    assert not ok and reason in message


def test_a_trailing_stop_intent_at_start_trails_by_its_percent(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    trailing = {**intent("oi_t1", "AAPL", -2, "TRAIL"), "trailing_amount": 50, "trailing_as_percent": True}
    engine = start_engine(intent=trailing)
    submitted = engine.wait_status("oi_t1", "Submitted")[0]
    # Half the price: 190 walks a little, so the stop starts near 95.
    assert 90 < submitted["stop_price"] < 100


def test_a_limit_if_touched_command_fills_once_touched(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    command = {**order_command("AAPL", 3, "oi_l1", "LimitIfTouched", 500.0), "TriggerPrice": 400.0}
    result = engine.send_command(command)
    assert result["Success"] is True, result
    assert engine.wait_status("oi_l1", "Filled")[-1]["fill_price"] < 400.0


def test_a_market_on_close_command_waits_for_the_close(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine(clock=BEFORE_CUTOFF)
    result = engine.send_command(order_command("AAPL", 1, "oi_c1", "MarketOnClose"))
    assert result["Success"] is True, result
    engine.send_command(order_command("AAPL", 1, "oi_m1"))
    engine.wait_status("oi_m1", "Filled")
    assert [e["status"] for e in engine.events("oi_c1")] == ["Submitted"]
