"""The LEAN algorithm places an intent: the order call, its refusals, subscriptions, market hours and stops.

LEAN facts the tests hold the algorithm to, read in QuantConnect/Lean at
24863901deffa9ec7985e21ef8fbdb0258efb9e4: settings.seed_initial_prices is off by default
(Common/AlgorithmSettings.cs 200) and orders without data are refused (Algorithm/QCAlgorithm.Trading.cs
1150); MarketOrder turns a closed-market equity order into MarketOnOpen (QCAlgorithm.Trading.cs 245-258);
IB takes MarketOnOpen only until two minutes before the open (Common/Brokerages/
InteractiveBrokersBrokerageModel.cs 352-355).
"""

from __future__ import annotations

import json
import types
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from execution.contract import EVENT_KEYS
from tests.execution.lean.fake_lean import (
    NY_SESSION,
    OrderStatus,
    Resolution,
    companion,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
    write_intent,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests


# ---------------------------------------------------------------------------------------------------------
# Intent -> order
# ---------------------------------------------------------------------------------------------------------


def test_initialize_reads_its_six_parameters(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    asked = {c[1] for c in algo.calls if c[0] == "get_parameter"}
    assert asked == {
        "intent-file",
        "intents-folder",
        "events-file",
        "run-id",
        "prices-interval",
        "max-line-bytes",
    }


def test_market_sell_is_placed_with_negative_quantity_and_the_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir, quantity=-10))
    algo.initialize()
    assert ("add_equity", "AAPL", Resolution.SECOND) in algo.calls
    assert algo.orders_placed() == []  # LEAN refuses orders before the first price: none yet

    algo.security("AAPL").has_data = True
    algo.on_data(None)
    algo.on_data(None)

    assert algo.orders_placed() == [("market_order", "AAPL", -10, True, "oi_3_1_1764000000123")]


def test_limit_buy_is_placed_with_its_limit_and_the_tag(lean: types.ModuleType, workdir: Path) -> None:
    intent = write_intent(
        workdir, order_intent_id="oi_3_2_1", quantity=5, order_type="LMT", limit_price=189.5
    )
    algo = make_algorithm(lean, workdir, intent)
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_warmup_finished()

    assert algo.orders_placed() == [("limit_order", "AAPL", 5, 189.5, "oi_3_2_1")]


def test_no_order_while_warming_up_or_without_a_price(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.on_data(None)
    algo.schedule.every(timedelta(minutes=1))()
    assert algo.orders_placed() == []

    algo.security("AAPL").has_data = True
    algo.is_warming_up = True
    algo.on_data(None)
    assert algo.orders_placed() == []

    algo.is_warming_up = False
    algo.schedule.every(timedelta(minutes=1))()  # the minute callback also places a waiting order
    assert len(algo.orders_placed()) == 1


def test_order_refused_by_leans_pre_order_checks_is_reported_invalid(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.refuse = "There is no data for this symbol yet"
    algo.security("AAPL").has_data = True
    algo.on_data(None)

    invalid = [line for line in read_lines(workdir) if line.get("tag")]
    assert len(invalid) == 1
    line = invalid[0]
    assert list(line) == list(EVENT_KEYS)
    assert line["tag"] == "oi_3_1_1764000000123"
    assert line["status"] == "Invalid"
    assert (line["order_id"], line["event_id"], line["run_id"]) == (0, 0, "r-1")
    assert line["message"] == "There is no data for this symbol yet"
    assert line["filled"] == 0


def test_an_exception_while_placing_is_reported_invalid(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("brokerage not ready")

    algo.market_order = explode
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    algo.on_data(None)

    events = [line for line in read_lines(workdir) if line.get("tag")]
    assert [(e["status"], e["message"]) for e in events] == [("Invalid", "RuntimeError: brokerage not ready")]


def test_an_intent_that_cannot_be_placed_is_reported_invalid_without_an_order(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir, quantity=0))
    algo.initialize()

    assert algo.orders_placed() == []
    events = [line for line in read_lines(workdir) if line.get("tag")]
    assert [(e["tag"], e["status"]) for e in events] == [("oi_3_1_1764000000123", "Invalid")]
    assert "zero" in events[0]["message"]


def test_an_unreadable_intent_is_an_engine_error_line(lean: types.ModuleType, workdir: Path) -> None:
    intent = workdir / "intents" / "broken.json"
    intent.write_text("{not json", encoding="utf-8")
    algo = make_algorithm(lean, workdir, intent)
    algo.initialize()

    lines = read_lines(workdir)
    errors = [line for line in lines if line.get("type") == "engine" and line["status"] == "error"]
    assert len(errors) == 1
    assert "unreadable" in errors[0]["message"]
    assert not any("tag" in line for line in lines)


def test_engine_without_an_intent_just_starts(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    assert algo.orders_placed() == []
    assert [line["status"] for line in read_lines(workdir)] == ["started"]


# ---------------------------------------------------------------------------------------------------------
# Subscriptions for OrderCommand orders
# ---------------------------------------------------------------------------------------------------------


def test_symbols_of_new_intents_are_subscribed(lean: types.ModuleType, workdir: Path) -> None:
    write_intent(workdir, order_intent_id="oi_old", symbol="MSFT")
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    assert [c[1] for c in algo.calls if c[0] == "add_equity"] == ["AAPL", "MSFT"]

    # An order handed over as a command: tradedesk writes its intent first, the scan subscribes it.
    write_intent(workdir, order_intent_id="oi_new", symbol="TSLA")
    (workdir / "intents" / ".oi_tmp.json.tmp").write_text("{}")
    algo.schedule.every(timedelta(seconds=5))()
    algo.schedule.every(timedelta(seconds=5))()
    assert [c[1] for c in algo.calls if c[0] == "add_equity"] == ["AAPL", "MSFT", "TSLA"]


def test_intent_symbols_skips_bad_files(lean: types.ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"symbol": "AAPL"}))
    (tmp_path / "b.json").write_text(json.dumps({"symbol": "not a symbol"}))
    (tmp_path / "c.json").write_text("[1, 2]")
    seen: set[str] = set()
    assert companion("intents").intent_symbols(tmp_path, seen) == ["AAPL"]
    assert companion("intents").intent_symbols(tmp_path, seen) == []
    assert companion("intents").intent_symbols(tmp_path / "missing", set()) == []


# ---------------------------------------------------------------------------------------------------------
# Prices and market hours
# ---------------------------------------------------------------------------------------------------------


def test_initial_prices_are_seeded(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    assert algo.settings.seed_initial_prices is True


def _closed_market_order(lean: types.ModuleType, workdir: Path, local: datetime, session: Any) -> Any:
    algo = make_algorithm(lean, workdir, write_intent(workdir, quantity=7))
    algo.initialize()
    security = algo.security("AAPL")
    security.has_data = True
    security.close_market(local, session)
    algo.on_data(None)
    return algo


def test_market_order_before_the_open_becomes_market_on_open(lean: types.ModuleType, workdir: Path) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 25, 8, 0), NY_SESSION)
    assert algo.orders_placed() == [("market_on_open_order", "AAPL", 7, True, "oi_3_1_1764000000123")]

    algo.on_order_event(order_event(order_id=1, id=1, status=OrderStatus.SUBMITTED))
    line = read_lines(workdir)[-1]
    assert (line["status"], line["message"]) == (
        "Submitted",
        companion("market_hours").MOO_MESSAGE,
    )  # the order shows which


def test_market_order_on_a_day_without_a_session_becomes_market_on_open(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 28, 12, 0), None)  # a Saturday
    assert [c[0] for c in algo.orders_placed()] == ["market_on_open_order"]


def test_market_order_in_the_two_minutes_before_the_open_is_refused(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 25, 9, 29), NY_SESSION)
    assert algo.orders_placed() == []
    events = [line for line in read_lines(workdir) if line.get("tag")]
    assert [(e["status"], e["order_id"], e["event_id"]) for e in events] == [("Invalid", 0, 0)]
    assert events[0]["message"].startswith("refused:") and "09:28" in events[0]["message"]


def test_market_order_while_open_stays_a_market_order(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    assert [c[0] for c in algo.orders_placed()] == ["market_order"]
    algo.on_order_event(order_event(order_id=1, id=1, status=OrderStatus.SUBMITTED))
    assert read_lines(workdir)[-1]["message"] == ""


# ---------------------------------------------------------------------------------------------------------
# Stop orders
# ---------------------------------------------------------------------------------------------------------


def place_on_first_price(lean: types.ModuleType, workdir: Path, **intent: Any) -> Any:
    algo = make_algorithm(lean, workdir, write_intent(workdir, **intent))
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    return algo


def test_stop_sell_is_placed_as_a_stop_market_order_with_its_stop(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = place_on_first_price(lean, workdir, order_type="STP", stop_price=180.5)
    assert algo.orders_placed() == [("stop_market_order", "AAPL", -10, 180.5, "oi_3_1_1764000000123")]


def test_stop_limit_buy_is_placed_with_stop_and_limit(lean: types.ModuleType, workdir: Path) -> None:
    algo = place_on_first_price(
        lean, workdir, quantity=5, order_type="STP LMT", stop_price=195, limit_price=196.25
    )
    assert algo.orders_placed() == [("stop_limit_order", "AAPL", 5, 195, 196.25, "oi_3_1_1764000000123")]


@pytest.mark.parametrize(
    "fields",
    [
        {"order_type": "STP", "stop_price": None},
        {"order_type": "STP", "stop_price": 0},
        {"order_type": "STP LMT", "stop_price": 195, "limit_price": None},
        {"order_type": "STP LMT", "stop_price": True, "limit_price": 196},
    ],
)
def test_a_stop_intent_without_its_prices_is_reported_invalid(
    lean: types.ModuleType, workdir: Path, fields: dict[str, Any]
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir, **fields))
    algo.initialize()
    assert algo.orders_placed() == []
    invalid = [line for line in read_lines(workdir) if line.get("status") == "Invalid"]
    assert len(invalid) == 1 and "price" in invalid[0]["message"]
