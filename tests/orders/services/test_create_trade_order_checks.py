"""Precautions before an order goes out: whole shares, prices on the tick, prices near the market."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orders.errors import ConfirmRequired, OrderValidationError, RiskRejected
from orders.models import TradeOrder, TradingState
from orders.services import apply_fill_to_order, create_trade_order
from orders.services.positions import positions_close
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def order(project: Any, user: Any, **extra: Any) -> Any:
    payload = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT", "project_id": project.pk}
    return create_trade_order({**payload, **extra}, user=user).order


def test_a_fractional_quantity_is_refused_as_whole_shares_only(project: Any, user: Any) -> None:
    with pytest.raises(OrderValidationError) as refused:
        order(project, user, quantity="1.5")
    assert refused.value.errors == {"quantity": "must be whole shares (lot size 1)"}
    assert not TradeOrder.objects.exists()


@pytest.mark.parametrize(
    ("field", "price", "tick"),
    [
        ("limit_price", "1.2345", "0.01"),
        ("stop_price", "190.001", "0.01"),
        ("limit_price", "0.12345", "0.0001"),
    ],
)
def test_a_price_off_the_tick_is_refused(project: Any, user: Any, field: str, price: str, tick: str) -> None:
    order_type = "LMT" if field == "limit_price" else "STP"
    with pytest.raises(OrderValidationError) as refused:
        order(project, user, order_type=order_type, **{field: price})
    assert refused.value.errors == {field: f"must be on the tick of {tick}"}


def test_prices_on_the_tick_pass_above_and_below_one_dollar(project: Any, user: Any) -> None:
    assert order(project, user, order_type="LMT", limit_price="190.25").limit_price == Decimal("190.25")
    assert order(project, user, order_type="LMT", limit_price="0.1234").limit_price == Decimal("0.1234")


def test_a_limit_past_the_hard_band_is_refused_against_the_market_price(
    project: Any, user: Any, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.00")
    with pytest.raises(RiskRejected) as refused:
        order(project, user, order_type="LMT", limit_price="1900", confirm=True)
    assert refused.value.errors == {"limit_price": "price is 910.6% from the market price 188.00 (limit 50%)"}


def test_a_limit_past_the_soft_band_asks_to_confirm_and_confirm_places_it(
    project: Any, user: Any, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.00")
    with pytest.raises(ConfirmRequired) as asked:
        order(project, user, order_type="LMT", limit_price="220")
    assert asked.value.checks == ["price_deviation"]
    assert asked.value.errors == {"confirm": "price is 17% from the market price 188.00: confirm to place it"}
    assert order(project, user, order_type="LMT", limit_price="220", confirm=True).limit_price == Decimal(220)


def test_a_limit_within_the_soft_band_goes_out_without_a_word(
    project: Any, user: Any, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.00")
    assert order(project, user, order_type="STP", stop_price="175").stop_price == Decimal(175)


def test_without_a_market_price_the_last_fill_is_the_reference(
    project: Any, user: Any, market: dict[str, Decimal]
) -> None:
    apply_fill_to_order(TradeOrderFactory(project=project, symbol="MSFT"), quantity=1, price="400")
    with pytest.raises(RiskRejected):
        order(project, user, symbol="MSFT", order_type="LMT", limit_price="40")


def test_per_project_bands_override_the_settings(project: Any, user: Any, market: dict[str, Decimal]) -> None:
    market["AAPL"] = Decimal(100)
    project.price_band_soft_pct, project.price_band_hard_pct = Decimal(2), Decimal(5)
    project.save()
    with pytest.raises(RiskRejected):
        order(project, user, order_type="LMT", limit_price="106", confirm=True)


def test_halted_refuses_new_risk_but_lets_a_close_through(project: Any, user: Any) -> None:
    apply_fill_to_order(TradeOrderFactory(project=project, symbol="AAPL"), quantity=3, price="190")
    project.trading_state = TradingState.HALTED
    project.save()
    with pytest.raises(RiskRejected):
        order(project, user)
    result = positions_close(project=project, symbols=["AAPL"], user=user)
    assert [(o.symbol, o.side) for o in result.orders] == [("AAPL", "SELL")]
