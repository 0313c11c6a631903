"""The order's time in force and outside-RTH reach the engine on both paths: the intent and the order command.

LEAN's own OrderCommand would place every desk order GoodTilCanceled in regular hours (it submits with the
algorithm's DefaultOrderProperties: Common/Commands/OrderCommand.cs:79, Algorithm/QCAlgorithm.cs:202,
Common/Orders/OrderProperties.cs:40-43@24863901), so tradedesk writes its own command, which LEAN runs as a
CallbackCommand of the class the algorithm registered (tests/fixtures/lean/time-in-force-excerpt.json).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution import actions
from execution.contract import ORDER_COMMAND_TYPE
from execution.engine import process as engines
from execution.engine.process import Handover
from orders.models import TradeOrder
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db
EXCERPT = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "time-in-force-excerpt.json"


@pytest.fixture
def handed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the dispatch hands over (the running engine gets the command; no result: still dispatched)."""
    calls: list[dict[str, Any]] = []

    def hand_over(*, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = "") -> Handover:
        calls.append({"intent": json.loads(Path(intent_path).read_text()), "command": command})
        return Handover(kind="start", run_id="r-tif", pid=4242)

    monkeypatch.setattr(engines, "hand_over", hand_over)
    return calls


def order(project: Any, **fields: Any) -> TradeOrder:
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    base = {"order_type": "LMT", "limit_price": Decimal(100), "quantity": Decimal(3)}
    return TradeOrderFactory(project=project, params=params, **{**base, **fields})


def test_lean_would_place_an_order_command_gtc_so_tradedesk_sends_its_own() -> None:
    data = json.loads(EXCERPT.read_text(encoding="utf-8"))
    assert data["_source"]["commit"] == "24863901deffa9ec7985e21ef8fbdb0258efb9e4"
    text = {item["path"] + ":" + item["lines"]: "\n".join(item["text"]) for item in data["excerpts"]}
    assert "algorithm.DefaultOrderProperties" in text["Common/Commands/OrderCommand.cs:79"]
    assert "TimeInForce = TimeInForce.GoodTilCanceled;" in text["Common/Orders/OrderProperties.cs:40-43"]
    assert "TryGetCallbackCommand(contents)" in text["Common/Commands/FileCommandHandler.cs:134-139"]
    assert "_registeredCommands[wrappedType.Name]" in text["Algorithm/QCAlgorithm.Python.cs:1917-1928"]


@pytest.mark.parametrize(
    ("fields", "lean_tif", "good_til", "outside"),
    [
        ({}, "Day", None, False),
        ({"time_in_force": "GTC", "outside_rth": True}, "GoodTilCanceled", None, True),
        ({"time_in_force": "GTD", "good_till_date": date(2030, 1, 2)}, "GoodTilDate", "2030-01-02", False),
    ],
)
def test_the_intent_and_the_command_carry_the_time_in_force_and_outside_rth(
    project: Any,
    handed: list[dict[str, Any]],
    fields: dict[str, Any],
    lean_tif: str,
    good_til: str | None,
    outside: bool,
) -> None:
    placed = order(project, **fields)
    assert actions.order_dispatch(order_id=placed.pk).outcome == "dispatched"
    (call,) = handed
    intent, command = call["intent"], call["command"]
    assert (intent["time_in_force"], intent["good_till_date"], intent["outside_rth"]) == (
        placed.time_in_force,
        good_til,
        outside,
    )
    assert command["$type"] == ORDER_COMMAND_TYPE == "TradedeskOrderCommand"
    assert (command["TimeInForce"], command["GoodTilDate"], command["OutsideRegularTradingHours"]) == (
        lean_tif,
        good_til,
        outside,
    )
    assert (command["OrderType"], command["Quantity"], command["LimitPrice"], command["Tag"]) == (
        "Limit",
        3,
        100,
        placed.client_order_id,
    )
