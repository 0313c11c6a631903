"""The algorithm's open-orders line after warm-up, and broker ids on its event lines (issue 21, item 3).

LEAN reloads every open IB order at setup (Engine/Setup/BrokerageSetupHandler.cs:405,485-518@24863901) and
OnWarmupFinished runs right after setup (Engine/AlgorithmManager.cs 711): the algorithm lists them there. Each
is rebuilt without the tag (ConvertOrder, InteractiveBrokersBrokerage.cs:3245-3370@d154917) with IB's order id as
its BrokerId (:3365) and IB's total quantity, signed (:3157); BrokerId is on the Order (Common/Orders/Order.cs:68),
not on the OrderEvent, so the algorithm looks the order up (tests/fixtures/lean/reloaded-orders-excerpt.json).
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.execution.lean.fake_lean import (
    FakeSymbol,
    OrderStatus,
    OrderType,
    companion,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

EXCERPT = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "reloaded-orders-excerpt.json"


def reloaded_order(
    order_id: int, broker_id: str, symbol: str, quantity: float, **fields: Any
) -> SimpleNamespace:
    """An order as LEAN rebuilds an open IB order at setup: no tag, IB's id as BrokerId, signed total quantity."""
    return SimpleNamespace(
        id=order_id, tag="", broker_id=[broker_id], symbol=FakeSymbol(symbol), quantity=quantity, open=True,
        **fields,
    )  # fmt: skip


def test_the_open_orders_line_lists_each_reloaded_order_after_warm_up(
    lean: types.ModuleType, workdir: Path
) -> None:
    facts = {e["lines"]: e["text"] for e in json.loads(EXCERPT.read_text())["excerpts"]}
    assert "order.BrokerId.Add(ibOrderId.ToStringInvariant());" in facts["3365"][0]
    assert "TotalQuantity" in facts["3157"][0]
    algo = make_algorithm(lean, workdir, None)
    algo.transactions.orders = {
        1: reloaded_order(1, "1007", "AAPL", 5.0, type=OrderType.LIMIT, limit_price=100.5),
        2: reloaded_order(2, "-5", "MSFT", -3.0, type=OrderType.MARKET),
    }
    algo.initialize()
    algo.on_warmup_finished()

    lines = read_lines(workdir)
    assert [line.get("type") for line in lines] == ["engine", "holdings", "open_orders"]
    assert lines[-1]["run_id"] == "r-1"
    assert lines[-1]["orders"] == [
        {"order_id": 1, "broker_ids": ["1007"], "symbol": "AAPL", "side": "BUY", "quantity": 5,
         "order_type": "Limit", "limit_price": 100.5, "stop_price": None, "tag": ""},
        {"order_id": 2, "broker_ids": ["-5"], "symbol": "MSFT", "side": "SELL", "quantity": 3,
         "order_type": "Market", "limit_price": None, "stop_price": None, "tag": ""},
    ]  # fmt: skip


def test_a_long_open_orders_line_is_split_within_the_cap(lean: types.ModuleType) -> None:
    orders = [
        reloaded_order(i, str(5000 + i), "AAPL", 1.0, type=OrderType.LIMIT, limit_price=1.0)
        for i in range(1, 60)
    ]
    line = companion("lines").open_orders_line(run_id="r-1", orders=orders)
    parts = companion("lines").split_open_orders_line(line, max_line_bytes=1024)
    assert len(parts) > 1 and all(len(companion("writer").encode_line(part)) <= 1024 for part in parts)
    assert [entry for part in parts for entry in part["orders"]] == line["orders"]
    assert {part["type"] for part in parts} == {"open_orders"}


def test_an_event_of_a_reloaded_order_carries_its_broker_id_and_no_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.transactions.orders = {
        1: reloaded_order(1, "1007", "AAPL", 5.0, type=OrderType.LIMIT, limit_price=1.0)
    }
    algo.initialize()
    algo.on_order_event(
        order_event(order_id=1, id=1, status=OrderStatus.FILLED, fill_quantity=5.0, fill_price=0.9)
    )
    line = read_lines(workdir)[-1]
    assert (
        line["tag"] == ""
        and line["broker_ids"] == ["1007"]
        and line["order_id"] == 1
        and line["run_id"] == "r-1"
    )
