"""The simulator works orders by their time in force and outside-RTH, as IB does under LEAN.

A DAY order still working at the close is canceled with the reason (the after-hours close when it may trade
outside regular hours); GTD at the close of its date (InteractiveBrokersBrokerage.cs:2998-3020@d154917); GTC
survives the close and a restart (simulator-orders.json keeps its time in force); an outside-RTH order
triggers and fills in the extended session, any other only in the regular one. The clock is the config's
fixed one, moved between steps of the book (no waiting on the wall clock).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from execution.simulator.common import BROKER_ORDERS_FILE
from execution.simulator.config import SimulatorConfig
from execution.simulator.loop import Simulator
from tests.execution.simulator.harness import order_command, tradedesk_command

WEDNESDAY_1530 = "2026-11-25T20:30:00Z"  # 15:30 New York (EST)
WEDNESDAY_1600 = "2026-11-25T21:00:00Z"  # the close
WEDNESDAY_1700 = "2026-11-25T22:00:00Z"  # after-hours
WEDNESDAY_2000 = "2026-11-26T01:00:00Z"  # the after-hours close
THURSDAY_1600 = "2026-11-26T21:00:00Z"


def simulator(workdir: Path, clock: str, run_id: str = "r-tif-1") -> Simulator:
    workdir.mkdir(parents=True, exist_ok=True)
    config = SimulatorConfig(
        workdir=workdir,
        events_file=workdir / "events.jsonl",
        intent_file=None,
        run_id=run_id,
        fill_delay=0.0,
        market_hours="us-equity",
        clock=clock,
        reference_prices={"AAPL": 190.0},
    )
    return Simulator(config)


def at(engine: Simulator, clock: str) -> None:
    """Move the simulated clock and work the book once."""
    engine.config = dataclasses.replace(engine.config, clock=clock)
    engine.work_orders()


def place(engine: Simulator, tag: str, limit: float, **properties: Any) -> None:
    name, ok, message, _ = engine.run_command(tradedesk_command("AAPL", 1, tag, "Limit", limit, **properties))
    assert (name, ok) == ("TradedeskOrderCommand", True), message


def events(engine: Simulator, tag: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in engine.config.events_file.read_text().splitlines()]
    return [line for line in lines if line.get("tag") == tag]


def statuses(engine: Simulator, tag: str) -> list[str]:
    return [line["status"] for line in events(engine, tag)]


def test_a_day_order_still_working_at_the_close_is_canceled_with_the_reason(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    place(engine, "oi_day", 1.0)  # a buy limit far below the market: it rests
    place(engine, "oi_gtc", 1.0, time_in_force="GoodTilCanceled")
    at(engine, WEDNESDAY_1530)
    assert statuses(engine, "oi_day") == ["Submitted"]
    at(engine, WEDNESDAY_1600)
    assert statuses(engine, "oi_day") == ["Submitted", "Canceled"]
    assert events(engine, "oi_day")[-1]["message"] == "DAY order canceled at the close (16:00 New York)"
    assert statuses(engine, "oi_gtc") == ["Submitted"]


def test_a_gtc_order_survives_the_close_and_a_restart_and_keeps_its_time_in_force(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    place(engine, "oi_gtc", 1.0, time_in_force="GoodTilCanceled", outside_rth=True)
    place(engine, "oi_day", 1.0)
    at(engine, WEDNESDAY_1600)
    kept = json.loads((tmp_path / BROKER_ORDERS_FILE).read_text())["orders"]
    assert [(o["time_in_force"], o["outside_rth"]) for o in kept] == [("GTC", True)]

    restarted = simulator(tmp_path, THURSDAY_1600, run_id="r-tif-2")
    (reloaded,) = restarted.reload_broker_orders()
    assert (reloaded.time_in_force, reloaded.outside_rth, reloaded.expires_at) == ("GTC", True, None)
    at(restarted, THURSDAY_1600)
    assert reloaded.working and reloaded.status == "Submitted"


def test_a_day_order_kept_across_a_restart_still_ends_at_its_close(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    place(engine, "oi_day", 1.0)
    restarted = simulator(tmp_path, WEDNESDAY_1530, run_id="r-tif-2")
    (reloaded,) = restarted.reload_broker_orders()
    at(restarted, WEDNESDAY_1600)
    assert reloaded.status == "Canceled"


def test_a_day_order_outside_rth_works_until_the_after_hours_close(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    place(engine, "oi_ext", 1.0, outside_rth=True)
    at(engine, WEDNESDAY_1700)
    assert statuses(engine, "oi_ext") == ["Submitted"]
    at(engine, WEDNESDAY_2000)
    assert statuses(engine, "oi_ext") == ["Submitted", "Canceled"]
    assert (
        events(engine, "oi_ext")[-1]["message"]
        == "DAY order canceled at the after-hours close (20:00 New York)"
    )


def test_a_gtd_order_expires_at_the_close_of_its_date(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    place(engine, "oi_gtd", 1.0, time_in_force="GoodTilDate", good_til_date="2026-11-26")
    at(engine, WEDNESDAY_1600)
    assert statuses(engine, "oi_gtd") == ["Submitted"]
    at(engine, THURSDAY_1600)
    assert statuses(engine, "oi_gtd") == ["Submitted", "Canceled"]
    assert (
        events(engine, "oi_gtd")[-1]["message"]
        == "GTD order expired at the close of its date (16:00 New York)"
    )


def test_a_gtd_order_past_its_close_is_invalid(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1700)
    payload = tradedesk_command(
        "AAPL", 1, "oi_old", "Limit", 1.0, time_in_force="GoodTilDate", good_til_date="2026-11-25"
    )
    _, ok, message, _ = engine.run_command(payload)
    assert ok is False and "has passed its close" in message
    assert statuses(engine, "oi_old") == ["Invalid"]


@pytest.mark.parametrize(("outside_rth", "fills_after_hours"), [(True, True), (False, False)])
def test_only_an_outside_rth_order_fills_in_the_extended_session(
    tmp_path: Path, outside_rth: bool, fills_after_hours: bool
) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1700)
    place(
        engine, "oi_x", 10_000.0, time_in_force="GoodTilCanceled", outside_rth=outside_rth
    )  # crosses at once
    at(engine, WEDNESDAY_1700)
    assert ("Filled" in statuses(engine, "oi_x")) is fills_after_hours
    if not fills_after_hours:
        at(engine, "2026-11-26T14:31:00Z")  # 09:31 New York: the regular session
        assert statuses(engine, "oi_x") == ["Submitted", "Filled"]


def test_nothing_fills_after_the_extended_session(tmp_path: Path) -> None:
    engine = simulator(tmp_path, "2026-11-26T01:30:00Z")  # 20:30 New York
    place(engine, "oi_late", 10_000.0, time_in_force="GoodTilCanceled", outside_rth=True)
    at(engine, "2026-11-26T01:30:00Z")
    assert statuses(engine, "oi_late") == ["Submitted"]
    at(engine, "2026-11-26T09:01:00Z")  # 04:01 New York: pre-market
    assert statuses(engine, "oi_late") == ["Submitted", "Filled"]


def test_leans_own_order_command_is_placed_gtc_in_regular_hours(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    engine.run_command(order_command("AAPL", 1, "oi_lean", "Limit", 1.0))
    (order,) = engine.orders.values()
    assert (order.time_in_force, order.outside_rth, order.expires_at) == ("GTC", False, None)


def test_outside_rth_is_dropped_on_a_market_order_as_the_ib_plugin_does(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    engine.run_command(tradedesk_command("AAPL", 1, "oi_mkt", outside_rth=True))
    (order,) = engine.orders.values()
    assert order.outside_rth is False


def test_a_brackets_children_work_as_long_as_their_entry(tmp_path: Path) -> None:
    engine = simulator(tmp_path, WEDNESDAY_1530)
    payload = tradedesk_command(
        "AAPL", 2, "oi_br", "Limit", 10_000.0, time_in_force="GoodTilCanceled", outside_rth=True
    )
    payload["Bracket"] = {
        "take_profit": {"tag": "oi_br.tp", "limit_price": 10_000.0},
        "stop_loss": {"tag": "oi_br.sl", "stop_price": 1.0},
    }
    assert engine.run_command(payload)[1] is True
    at(engine, WEDNESDAY_1530)  # the entry crosses and fills: its children are placed
    children = {order.tag: order for order in engine.orders.values() if order.tag.startswith("oi_br.")}
    assert set(children) == {"oi_br.tp", "oi_br.sl"}
    assert {(o.time_in_force, o.outside_rth, o.expires_at) for o in children.values()} == {
        ("GTC", True, None)
    }
