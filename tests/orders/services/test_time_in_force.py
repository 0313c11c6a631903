"""Time in force and outside regular hours of a new order: stored as asked, refused where IB would not take it.

IB takes Day, GoodTilCanceled and GoodTilDate (Common/Brokerages/InteractiveBrokersBrokerageModel.cs:66-71
@24863901); GTD expires at the close of its date (InteractiveBrokersBrokerage.cs:2998-3020@d154917); outside
RTH is sent only for Limit, LimitIfTouched, StopMarket, StopLimit and TrailingStop (:3583-3598): excerpts in
tests/fixtures/lean/time-in-force-excerpt.json and tests/fixtures/ib/time-in-force-excerpt.json.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from execution.contract import market_hours
from orders.errors import Conflict, OrderValidationError
from orders.models import AuditLog, TimeInForce, TradeOrder
from orders.services import create_trade_order
from orders.services.time_in_force import clean_time_in_force, good_till_date_expiry
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def excerpt(name: str, path: str) -> str:
    """The cited lines of one file of a fixture, joined."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return "\n".join(line for item in data["excerpts"] if item["path"] == path for line in item["text"])


def place(project: Any, **fields: Any) -> TradeOrder:
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "LMT", "limit_price": "100"}
    return create_trade_order({**body, **fields, "project_id": project.pk}).order


def refusal(project: Any, **fields: Any) -> dict[str, str]:
    with pytest.raises(OrderValidationError) as caught:
        place(project, **fields)
    assert caught.value.status_code == 422
    assert not TradeOrder.objects.exists()
    return caught.value.errors


def future_weekday() -> date:
    day = timezone.now().date() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_ib_takes_day_gtc_and_gtd_and_sends_outside_rth_only_for_resting_types() -> None:
    model = excerpt(
        "lean/time-in-force-excerpt.json", "Common/Brokerages/InteractiveBrokersBrokerageModel.cs"
    )
    for name in ("GoodTilCanceledTimeInForce", "DayTimeInForce", "GoodTilDateTimeInForce"):
        assert f"typeof({name})" in model
    plugin = excerpt(
        "ib/time-in-force-excerpt.json",
        "QuantConnect.InteractiveBrokersBrokerage/InteractiveBrokersBrokerage.cs",
    )
    assert "return orderType is OrderType.Limit" in plugin and "OrderType.Market " not in plugin
    assert "exchangeHours.GetNextMarketClose(gtdTimeInForce.Expiry.Date, false)" in plugin


def test_an_order_without_a_time_in_force_is_day_and_regular_hours(project: Any) -> None:
    order = place(project)
    assert (order.time_in_force, order.good_till_date, order.outside_rth) == ("DAY", None, False)


@pytest.mark.parametrize("asked", ["DAY", "GTC", "gtc", " Day "])
def test_day_and_gtc_are_stored_as_asked(project: Any, asked: str) -> None:
    assert place(project, time_in_force=asked).time_in_force == asked.strip().upper()


def test_gtd_is_stored_with_its_date_and_audited(project: Any) -> None:
    day = future_weekday()
    order = place(project, time_in_force="GTD", good_till_date=day.isoformat())
    assert order.time_in_force == TimeInForce.GTD and order.good_till_date == day
    detail = AuditLog.objects.get(action="order_create", order=order).detail
    assert detail["time_in_force"] == "GTD" and detail["good_till_date"] == day.isoformat()


@pytest.mark.parametrize("order_type", ["LMT", "STP", "STP LMT"])
def test_outside_rth_is_stored_on_the_types_ib_sends_it_for(project: Any, order_type: str) -> None:
    prices: dict[str, str | None] = {"limit_price": "100" if "LMT" in order_type else None}
    if "STP" in order_type:
        prices["stop_price"] = "101"
    order = place(project, order_type=order_type, outside_rth=True, **prices)
    assert order.outside_rth is True


def test_outside_rth_on_a_market_order_is_refused(project: Any) -> None:
    errors = refusal(project, order_type="MKT", limit_price=None, outside_rth=True)
    assert errors == {
        "outside_rth": "IB does not accept outside regular hours on a MKT order (only LMT, STP, STP LMT, TRAIL, LIT)"
    }


def test_gtd_without_a_date_is_refused(project: Any) -> None:
    assert refusal(project, time_in_force="GTD") == {"good_till_date": "required for a GTD order"}


def test_gtd_with_a_past_date_is_refused(project: Any) -> None:
    errors = refusal(project, time_in_force="GTD", good_till_date="2020-01-02")
    assert errors["good_till_date"].startswith("must not be in the past")


@pytest.mark.parametrize("tif", ["DAY", "GTC", None])
def test_a_date_on_a_day_or_gtc_order_is_refused(project: Any, tif: str | None) -> None:
    errors = refusal(project, time_in_force=tif, good_till_date=future_weekday().isoformat())
    assert errors == {"good_till_date": "only a GTD order has a good_till_date"}


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"time_in_force": "IOC"}, "time_in_force", "must be DAY, GTC or GTD"),
        ({"time_in_force": 1}, "time_in_force", "must be DAY, GTC or GTD"),
        (
            {"time_in_force": "GTD", "good_till_date": "12/08/2026"},
            "good_till_date",
            "must be a date (YYYY-MM-DD)",
        ),
        ({"outside_rth": "yes"}, "outside_rth", "must be true or false"),
    ],
)
def test_malformed_values_are_refused_by_field(
    project: Any, fields: dict[str, Any], field: str, reason: str
) -> None:
    assert refusal(project, **fields) == {field: reason}


def test_gtd_of_today_is_refused_once_the_close_has_passed() -> None:
    errors: dict[str, str] = {}
    wednesday = date(2026, 11, 25)
    after_close = datetime(2026, 11, 25, 21, 0, 1, tzinfo=UTC)  # 16:00:01 New York
    clean_time_in_force(
        {"time_in_force": "GTD", "good_till_date": wednesday.isoformat()},
        order_type="LMT",
        errors=errors,
        now=after_close,
    )
    assert errors["good_till_date"].startswith("must not be in the past")
    before_close = datetime(2026, 11, 25, 20, 59, tzinfo=UTC)
    errors.clear()
    clean = clean_time_in_force(
        {"time_in_force": "GTD", "good_till_date": wednesday.isoformat()},
        order_type="LMT",
        errors=errors,
        now=before_close,
    )
    assert errors == {} and clean.good_till_date == wednesday


@pytest.mark.parametrize(
    ("day", "expires_utc"),
    [
        (date(2026, 11, 25), datetime(2026, 11, 25, 21, 0, tzinfo=UTC)),  # Wednesday, EST
        (date(2026, 11, 28), datetime(2026, 11, 30, 21, 0, tzinfo=UTC)),  # Saturday: Monday's close
        (date(2026, 7, 1), datetime(2026, 7, 1, 20, 0, tzinfo=UTC)),  # EDT
    ],
)
def test_the_domain_and_the_engines_agree_when_a_gtd_order_expires(day: date, expires_utc: datetime) -> None:
    assert good_till_date_expiry(day) == expires_utc
    assert market_hours.good_till_date_expiry(day) == expires_utc


def test_a_replay_with_another_time_in_force_is_a_conflict(project: Any) -> None:
    place(project, client_order_id="tif-1", time_in_force="GTC")
    assert place(project, client_order_id="tif-1", time_in_force="GTC").time_in_force == "GTC"
    with pytest.raises(Conflict):
        place(project, client_order_id="tif-1", time_in_force="DAY")
    with pytest.raises(Conflict):
        place(project, client_order_id="tif-1", time_in_force="GTC", outside_rth=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"time_in_force": "IOC"},
        {"time_in_force": "GTD"},
        {"time_in_force": "DAY", "good_till_date": date(2030, 1, 2)},
        {"order_type": "MKT", "outside_rth": True},
    ],
)
def test_the_database_refuses_what_the_service_refuses(project: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeOrderFactory(project=project, **fields)


def test_a_brackets_children_take_their_entrys_time_in_force_and_session(project: Any) -> None:
    day = future_weekday()
    entry = place(
        project, symbol="KO", limit_price="50", take_profit_price="55", stop_loss_price="45",
        time_in_force="GTD", good_till_date=day.isoformat(), outside_rth=True,
    )  # fmt: skip
    children = TradeOrder.objects.filter(parent=entry)
    assert children.count() == 2
    assert {(c.time_in_force, c.good_till_date, c.outside_rth) for c in children} == {("GTD", day, True)}
