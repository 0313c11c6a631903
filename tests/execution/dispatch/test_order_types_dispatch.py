"""A trailing stop, a market on close and a limit if touched on their way to the engine: the intent, the
OrderCommand (LEAN's field names and its trailing fraction), the market on close cut-off at dispatch, and the
fields LEAN's own OrderCommand cannot carry (tests/fixtures/lean/order-types-excerpt.json)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution import actions as services
from execution.contract import order_command
from execution.contract.intents import write_manual_order_intent
from execution.contract.messages import lean_trailing_amount
from execution.engine import process as engines
from execution.engine.process import Handover
from orders.models import TradeOrder
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db
EXCERPTS = Path(__file__).resolve().parents[2] / "fixtures"


class Recorder:
    """Stands in for engines.hand_over: records the command and its refusal, answers with `kind`."""

    def __init__(self, kind: str = "start") -> None:
        self.calls: list[dict[str, Any]] = []
        self.kind = kind

    def __call__(
        self, *, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = ""
    ) -> Handover:
        self.calls.append({"command": command, "refusal": refusal})
        if refusal:
            return Handover(kind="refused", run_id="r-run", pid=1)
        return Handover(kind=self.kind, run_id="r-test", pid=4242, command_id=command["Id"], command_path="x")


@pytest.fixture
def recorder(monkeypatch: Any) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(engines, "hand_over", rec)
    return rec


def manual_order(project: Any, **extra: Any) -> TradeOrder:
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    return TradeOrderFactory(project=project, params=params, **extra)


def excerpt_lines(name: str, path: str, lines: str) -> str:
    for item in json.loads((EXCERPTS / name).read_text())["excerpts"]:
        if item["path"] == path and item["lines"] == lines:
            return "\n".join(item["text"])
    raise AssertionError(f"no excerpt {path}:{lines}")


def test_the_intent_carries_the_trailing_amount_and_the_trigger(project: Any, tmp_path: Path) -> None:
    trail = manual_order(
        project, side="SELL", order_type="TRAIL", trailing_amount=Decimal("2.5"), trailing_as_percent=True
    )
    intent = json.loads(write_manual_order_intent(trail, tmp_path).read_text())
    assert (intent["order_type"], intent["trailing_amount"], intent["trailing_as_percent"]) == (
        "TRAIL",
        2.5,
        True,
    )
    assert intent["stop_price"] is None and intent["trigger_price"] is None
    lit = manual_order(project, order_type="LIT", trigger_price=Decimal(190), limit_price=Decimal("190.5"))
    intent = json.loads(write_manual_order_intent(lit, tmp_path).read_text())
    assert (intent["trigger_price"], intent["limit_price"], intent["trailing_amount"]) == (190, 190.5, None)


def test_the_order_command_names_leans_types_and_fields() -> None:
    base = {"command_id": "c", "symbol": "AAPL", "quantity": -3, "limit_price": None, "tag": "t"}
    trail = order_command(**base, order_type="TRAIL", trailing_amount=2.5, trailing_as_percent=True)
    assert (trail["OrderType"], trail["TrailingAmount"], trail["TrailingAsPercentage"]) == (
        "TrailingStop",
        0.025,
        True,
    )
    by_price = order_command(**base, order_type="TRAIL", trailing_amount=1.25)
    assert (by_price["TrailingAmount"], by_price["TrailingAsPercentage"]) == (1.25, False)
    lit = order_command(**{**base, "limit_price": 189.5}, order_type="LIT", trigger_price=190)
    assert (lit["OrderType"], lit["LimitPrice"], lit["TriggerPrice"]) == ("LimitIfTouched", 189.5, 190)
    moc = order_command(**base, order_type="MOC")
    assert moc["OrderType"] == "MarketOnClose" and "TrailingAmount" not in moc and "TriggerPrice" not in moc


def test_a_trailing_percent_reaches_lean_and_ib_as_they_read_it() -> None:
    # LEAN multiplies the price by (1 - amount); the IB plugin sends TrailingPercent = amount * 100.
    assert "currentMarketPrice * (1 - trailingAmount)" in excerpt_lines(
        "lean/order-types-excerpt.json", "Common/Orders/TrailingStopOrder.cs", "155-194"
    )
    assert "ibOrder.TrailingPercent = (double)trailingStopOrder.TrailingAmount * 100;" in excerpt_lines(
        "ib/order-types-excerpt.json",
        "QuantConnect.InteractiveBrokersBrokerage/InteractiveBrokersBrokerage.cs",
        "3050-3062",
    )
    assert lean_trailing_amount(1.1, as_percent=True) == 0.011
    assert lean_trailing_amount(5, as_percent=True) == 0.05
    assert lean_trailing_amount(0.37, as_percent=False) == 0.37


def test_a_market_on_close_past_its_cutoff_is_rejected_at_dispatch(
    project: Any, recorder: Recorder, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = "2026-12-07T20:50:00Z"  # 15:50 New York
    order = manual_order(project, order_type="MOC")
    result = services.order_dispatch(order_id=order.pk)
    order.refresh_from_db()
    assert result.outcome == "rejected" and order.status == "REJECTED"
    assert "15.5 minutes before the close" in order.status_message
    assert recorder.calls[0]["command"]["OrderType"] == "MarketOnClose"


def test_a_market_on_close_before_its_cutoff_is_handed_over(
    project: Any, recorder: Recorder, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = "2026-12-07T20:00:00Z"
    order = manual_order(project, order_type="MOC")
    assert services.order_dispatch(order_id=order.pk).outcome == "dispatched"
    assert recorder.calls[0]["refusal"] == ""


def test_a_running_engine_gets_the_trailing_amount_and_the_trigger_in_tradedesks_command(
    project: Any, recorder: Recorder, settings: Any
) -> None:
    # LEAN's own OrderCommand would drop them (it builds its SubmitOrderRequest without them).
    run = excerpt_lines("lean/order-types-excerpt.json", "Common/Commands/OrderCommand.cs", "76-80")
    assert "Quantity, StopPrice, LimitPrice, DateTime.UtcNow, Tag" in run
    settings.TRADEDESK_ENGINE = "lean"
    trail = manual_order(
        project, side="SELL", order_type="TRAIL", trailing_amount=Decimal(3), trailing_as_percent=True
    )
    lit = manual_order(project, order_type="LIT", trigger_price=Decimal(190), limit_price=Decimal("189.5"))
    services.order_dispatch(order_id=trail.pk)
    services.order_dispatch(order_id=lit.pk)
    first, second = (call["command"] for call in recorder.calls)
    assert first["$type"] == "TradedeskOrderCommand" and recorder.calls[0]["refusal"] == ""
    assert (first["OrderType"], first["TrailingAmount"], first["TrailingAsPercentage"]) == (
        "TrailingStop",
        0.03,
        True,
    )
    assert (second["OrderType"], second["TriggerPrice"], second["LimitPrice"]) == (
        "LimitIfTouched",
        190,
        189.5,
    )
