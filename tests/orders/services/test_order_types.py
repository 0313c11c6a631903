"""Trailing stop (TRAIL), market on close (MOC) and limit if touched (LIT): validation, database constraints,
risk valuation and creation. The types are those IB accepts in LEAN (tests/fixtures/lean/order-types-excerpt.json:
InteractiveBrokersBrokerageModel.cs:76-90@24863901)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from orders.errors import OrderValidationError, RiskRejected
from orders.models import AuditLog, OrderType, Project, TradeOrder
from orders.services import clean_order_payload, create_trade_order
from orders.services.buying_power import working_orders_value
from orders.services.preview import order_preview, trailing_stop
from orders.services.risk import notional_price
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db

BUY = {"symbol": "AAPL", "side": "BUY", "quantity": 10}
SELL = {**BUY, "side": "SELL"}
EXCERPTS = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "order-types-excerpt.json"


def excerpt(path: str, lines: str) -> str:
    for item in json.loads(EXCERPTS.read_text())["excerpts"]:
        if item["path"] == path and item["lines"] == lines:
            return "\n".join(item["text"])
    raise AssertionError(f"no excerpt {path}:{lines}")


def test_the_new_types_are_ones_ib_accepts_in_lean() -> None:
    supported = excerpt("Common/Brokerages/InteractiveBrokersBrokerageModel.cs", "76-90")
    for lean_name in ("OrderType.TrailingStop", "OrderType.MarketOnClose", "OrderType.LimitIfTouched"):
        assert lean_name in supported
    assert {"TRAIL", "MOC", "LIT"} <= set(OrderType.values)


def test_trailing_stop_takes_an_amount_or_a_percent_and_no_stop() -> None:
    clean = clean_order_payload({**SELL, "order_type": "trail", "trailing_amount": "1.50"})
    assert (clean.order_type, clean.trailing_amount, clean.trailing_as_percent) == (
        "TRAIL",
        Decimal("1.5"),
        False,
    )
    assert clean.stop_price is None and clean.limit_price is None
    percent = clean_order_payload(
        {**SELL, "order_type": "TRAIL", "trailing_amount": 2.5, "trailing_as_percent": True}
    )
    assert (percent.trailing_amount, percent.trailing_as_percent) == (Decimal("2.5"), True)


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ({}, "trailing_amount", "required for a trailing stop"),
        ({"trailing_amount": 0}, "trailing_amount", "must be greater than 0"),
        (
            {"trailing_amount": 100, "trailing_as_percent": True},
            "trailing_amount",
            "a trailing percent must be below 100",
        ),
        (
            {"trailing_amount": 1, "trailing_as_percent": "yes"},
            "trailing_as_percent",
            "must be true or false",
        ),
        (
            {"trailing_amount": 1, "stop_price": 180},
            "stop_price",
            "a trailing stop's stop is set by the engine: the market price less the trailing amount",
        ),
        ({"trailing_amount": 1, "limit_price": 180}, "limit_price", "only a limit order has a limit price"),
    ],
)
def test_trailing_stop_refusals_name_the_field(extra: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload({**SELL, "order_type": "TRAIL", **extra})
    assert caught.value.errors[field] == reason


@pytest.mark.parametrize("order_type", ["MKT", "LMT", "STP", "MOC", "LIT"])
def test_only_a_trailing_stop_has_a_trailing_amount(order_type: str) -> None:
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload(
            {**BUY, "order_type": order_type, "trailing_amount": 1, "trailing_as_percent": True}
        )
    assert caught.value.errors["trailing_amount"] == "only a trailing stop has a trailing amount"
    assert caught.value.errors["trailing_as_percent"] == "only a trailing stop trails by a percent"


def test_limit_if_touched_needs_a_trigger_and_a_limit() -> None:
    clean = clean_order_payload({**BUY, "order_type": "LIT", "trigger_price": 185, "limit_price": "185.5"})
    assert (clean.trigger_price, clean.limit_price) == (Decimal(185), Decimal("185.5"))
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload({**BUY, "order_type": "LIT"})
    assert caught.value.errors == {
        "limit_price": "required for a limit order",
        "trigger_price": "required for a limit-if-touched order",
    }
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload({**BUY, "order_type": "LMT", "limit_price": 5, "trigger_price": 4})
    assert caught.value.errors == {"trigger_price": "only a limit-if-touched order has a trigger price"}


def test_market_on_close_takes_no_price() -> None:
    assert clean_order_payload({**BUY, "order_type": "MOC"}).order_type == "MOC"
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload({**BUY, "order_type": "MOC", "limit_price": 5, "stop_price": 4})
    assert set(caught.value.errors) == {"limit_price", "stop_price"}


def test_a_trailing_amount_and_a_trigger_are_on_the_tick(user: Any, project: Project) -> None:
    for extra, field in (
        ({"order_type": "TRAIL", "trailing_amount": "1.005"}, "trailing_amount"),
        ({"order_type": "LIT", "trigger_price": "185.001", "limit_price": 185}, "trigger_price"),
    ):
        with pytest.raises(OrderValidationError) as caught:
            create_trade_order({**SELL, "project_id": project.pk, **extra}, user=user)
        assert caught.value.errors[field] == "must be on the tick of 0.01"
    # A percent is no price: 0.125 % is fine.
    create_trade_order(
        {
            **SELL,
            "project_id": project.pk,
            "order_type": "TRAIL",
            "trailing_amount": "0.125",
            "trailing_as_percent": True,
        },
        user=user,
    )
    assert not TradeOrder.objects.filter(order_type="LIT").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"order_type": "TRAIL"},  # no trailing amount
        {"order_type": "TRAIL", "trailing_amount": Decimal(0)},
        {"order_type": "TRAIL", "trailing_amount": Decimal(100), "trailing_as_percent": True},
        {"order_type": "TRAIL", "trailing_amount": Decimal(1), "limit_price": Decimal(5)},
        {"order_type": "MKT", "trailing_amount": Decimal(1)},
        {"order_type": "MKT", "trailing_as_percent": True},
        {"order_type": "LIT", "limit_price": Decimal(5)},  # no trigger
        {"order_type": "LIT", "trigger_price": Decimal(5)},  # no limit
        {"order_type": "LMT", "limit_price": Decimal(5), "trigger_price": Decimal(5)},
        {"order_type": "MOC", "limit_price": Decimal(5)},
        {"order_type": "MOC", "stop_price": Decimal(5)},
    ],
)
def test_database_refuses_fields_that_do_not_match_the_type(project: Project, fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeOrderFactory(project=project, **fields)


def test_database_takes_each_type_with_its_fields(project: Project) -> None:
    TradeOrderFactory(
        project=project, order_type="TRAIL", trailing_amount=Decimal("99.5"), trailing_as_percent=True
    )
    TradeOrderFactory(
        project=project, order_type="TRAIL", trailing_amount=Decimal(2), stop_price=Decimal(180)
    )
    TradeOrderFactory(project=project, order_type="MOC")
    TradeOrderFactory(project=project, order_type="LIT", trigger_price=Decimal(5), limit_price=Decimal(5))
    assert TradeOrder.objects.count() == 4


def test_the_stop_a_trailing_stop_starts_at_is_leans() -> None:
    # CalculateStopPrice: a sell below the market, a buy above it; a percent as LEAN's fraction.
    assert "currentMarketPrice * (1 - trailingAmount)" in excerpt(
        "Common/Orders/TrailingStopOrder.cs", "155-194"
    )
    assert (
        trailing_stop(side="SELL", reference=Decimal(200), trailing_amount=Decimal(2), as_percent=False)
        == 198
    )
    assert (
        trailing_stop(side="BUY", reference=Decimal(200), trailing_amount=Decimal(5), as_percent=True) == 210
    )
    assert (
        trailing_stop(side="SELL", reference=Decimal(200), trailing_amount=Decimal("2.5"), as_percent=True)
        == 195
    )


def test_risk_values_a_trailing_stop_at_its_stop_a_lit_at_its_limit_a_moc_at_the_market(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(200)
    trail = clean_order_payload(
        {**BUY, "order_type": "TRAIL", "trailing_amount": 5, "trailing_as_percent": True}
    )
    assert notional_price(project=project, clean=trail) == Decimal(210)
    lit = clean_order_payload({**BUY, "order_type": "LIT", "trigger_price": 195, "limit_price": 196})
    assert notional_price(project=project, clean=lit) == Decimal(196)
    moc = clean_order_payload({**BUY, "order_type": "MOC"})
    assert notional_price(project=project, clean=moc) == Decimal(200)


def test_a_buy_trailing_stop_over_the_notional_limit_is_refused(
    user: Any, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(100)
    project.max_order_notional = Decimal(1050)
    project.save()
    payload = {**BUY, "project_id": project.pk, "order_type": "TRAIL", "trailing_amount": 6}
    with pytest.raises(RiskRejected) as caught:
        create_trade_order(payload, user=user)  # 10 x (100 + 6) = 1060
    assert "1,060.00" in caught.value.message
    create_trade_order({**payload, "trailing_amount": 5}, user=user)  # 10 x 105 = 1050


def test_working_orders_value_a_trailing_stop_at_its_current_stop(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(200)
    TradeOrderFactory(
        project=project, side="SELL", order_type="TRAIL", trailing_amount=Decimal(3), status="SUBMITTED"
    )
    assert working_orders_value(project=project) == Decimal(197)
    TradeOrder.objects.update(stop_price=Decimal(190))  # the engine reported its current stop
    assert working_orders_value(project=project) == Decimal(190)


def test_a_trigger_far_from_the_market_is_held_to_the_price_bands(
    user: Any, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(100)
    payload = {**BUY, "project_id": project.pk, "order_type": "LIT", "trigger_price": 40, "limit_price": 99}
    with pytest.raises(RiskRejected) as caught:
        create_trade_order(payload, user=user)
    assert "trigger_price" in caught.value.errors


def test_the_preview_shows_a_trailing_stop_at_where_it_would_sit(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(200)
    preview = order_preview(
        project=project,
        symbol="AAPL",
        quantity=Decimal(10),
        order_type="TRAIL",
        side="SELL",
        trailing_amount=Decimal(4),
    )
    assert (preview.price, preview.value, preview.band) == (Decimal(196), Decimal(1960), "")


def test_creating_each_type_stores_and_audits_its_fields(user: Any, project: Project) -> None:
    base = {**SELL, "project_id": project.pk}
    trail = create_trade_order(
        {**base, "order_type": "TRAIL", "trailing_amount": 3, "trailing_as_percent": True}, user=user
    ).order
    lit = create_trade_order(
        {**base, "order_type": "LIT", "trigger_price": 210, "limit_price": 209.5}, user=user
    ).order
    moc = create_trade_order({**base, "order_type": "MOC"}, user=user).order
    trail.refresh_from_db()
    assert (trail.trailing_amount, trail.trailing_as_percent, trail.stop_price) == (Decimal(3), True, None)
    assert (lit.trigger_price, lit.limit_price) == (Decimal(210), Decimal("209.5"))
    assert moc.order_type == "MOC" and moc.limit_price is None
    details = {entry.order_id: entry.detail for entry in AuditLog.objects.filter(action="order_create")}
    assert (
        Decimal(details[trail.pk]["trailing_amount"]) == 3
        and details[trail.pk]["trailing_as_percent"] is True
    )
    assert Decimal(details[lit.pk]["trigger_price"]) == 210
    assert "trailing_amount" not in details[moc.pk] and "trigger_price" not in details[moc.pk]


def test_a_replay_of_a_trailing_stop_answers_the_order_even_after_its_stop_moved(
    user: Any, project: Project
) -> None:
    payload = {
        **SELL,
        "project_id": project.pk,
        "order_type": "TRAIL",
        "trailing_amount": 2,
        "client_order_id": "t-1",
    }
    first = create_trade_order(payload, user=user).order
    TradeOrder.objects.filter(pk=first.pk).update(stop_price=Decimal(188))
    again = create_trade_order(payload, user=user)
    assert again.created is False and again.order.pk == first.pk
    with pytest.raises(Exception, match="already used"):
        create_trade_order({**payload, "trailing_amount": 3}, user=user)


def test_a_type_refusal_from_the_engine_side_is_a_422_and_stores_nothing(user: Any, project: Project) -> None:
    def refusal(*, order_type: str) -> str:
        return "too late for the close" if order_type == "MOC" else ""

    with pytest.raises(OrderValidationError) as caught:
        create_trade_order(
            {**BUY, "project_id": project.pk, "order_type": "MOC"}, user=user, type_refusal=refusal
        )
    assert caught.value.status_code == 422 and caught.value.errors == {"order_type": "too late for the close"}
    assert not TradeOrder.objects.exists()
    create_trade_order(
        {**BUY, "project_id": project.pk, "order_type": "MKT"}, user=user, type_refusal=refusal
    )


def test_a_working_trailing_stop_or_lit_is_modified_as_leans_update_command_allows(
    user: Any, project: Project
) -> None:
    from django.utils import timezone

    from orders.services.modify import order_modify_record

    working = {
        "status": "SUBMITTED", "ib_order_id": 7, "dispatched_at": timezone.now(), "quantity": Decimal(10),
        "params": {"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    }  # fmt: skip
    trail = TradeOrderFactory(project=project, side="SELL", order_type="TRAIL", trailing_amount=Decimal(2),
                              stop_price=Decimal(188), **working)  # fmt: skip
    with pytest.raises(OrderValidationError) as caught:
        order_modify_record(order=trail, stop_price="190", user=user)
    assert caught.value.errors == {"stop_price": "only a stop order has a stop price"}
    request = order_modify_record(order=trail, quantity="12", user=user)
    assert request.quantity == 12 and request.order.update_pending
    lit = TradeOrderFactory(project=project, order_type="LIT", trigger_price=Decimal(185), limit_price=Decimal(186),
                            **{**working, "client_order_id": "oi_lit_m", "ib_order_id": 8})  # fmt: skip
    assert order_modify_record(order=lit, limit_price="186.5", user=user).limit_price == Decimal("186.5")
