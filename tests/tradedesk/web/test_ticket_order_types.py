"""The ticket's trailing stop, market on close and limit if touched: their fields shown for their type only,
stored from the form, refused beside the field (in zh-hans too); the blotter, the timeline and the admin show them."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Project, TradeOrder
from tests.factories import TradeOrderFactory, UserFactory
from tradedesk.web.forms import preview_input

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]
NEW_ORDER = reverse("live-trade-order-new")
HTMX = {"HTTP_HX_REQUEST": "true"}


def post(client: Client, project: Project, lang: str = "", **fields: Any) -> Any:
    data = {"project": project.pk, "symbol": "AAPL", "side": "SELL", "quantity": "2"}
    url = NEW_ORDER + (f"?lang={lang}" if lang else "")
    return client.post(url, {**data, **fields}, **HTMX)


def ticket_form(client: Client, project: Project) -> str:
    html = client.get(reverse("live-trade"), {"project": project.pk}).content.decode()
    start = html.index('id="ticket-form"')
    return html[start : html.index("</form>", start)]


def test_the_ticket_offers_the_types_and_shows_each_price_field_for_its_types(
    client_in: Client, project: Project
) -> None:
    form = ticket_form(client_in, project)
    assert re.findall(r'<option value="([A-Z ]+)"( selected)?>', form)[:7] == [
        ("MKT", " selected"),
        ("LMT", ""),
        ("STP", ""),
        ("STP LMT", ""),
        ("TRAIL", ""),
        ("MOC", ""),
        ("LIT", ""),
    ]
    fields = {
        name: set(json.loads(types.replace("&quot;", '"')))
        for name, types in re.findall(
            r'class="field field-([a-z]+)[^"]*" (?:data-[a-z-]+ )*data-type-field data-types="([^"]*)"', form
        )
    }
    assert fields == {
        "trailing": {"TRAIL"},
        "trigger": {"LIT"},
        "stop": {"STP", "STP LMT"},
        "limit": {"LMT", "STP LMT", "LIT"},
    }
    # A new ticket is MKT: every price field starts hidden; keyboard order keeps prices before the time in force.
    assert all(re.search(rf"field-{name}[^>]* hidden>", form) for name in fields)
    names = re.findall(r'name="([a-z_]+)"', form)
    assert names.index("trailing_amount") < names.index("trigger_price") < names.index("time_in_force")


def test_a_trailing_stop_by_percent_from_the_ticket_is_stored(client_in: Client, project: Project) -> None:
    response = post(client_in, project, order_type="TRAIL", trailing_amount="1.5", trailing_as_percent="on",
                    limit_price="5", stop_price="4", trigger_price="3")  # fmt: skip
    assert response.status_code == 200, response.content.decode()[:500]
    order = TradeOrder.objects.get(project=project)
    # The hidden fields of the other types are never sent.
    assert (order.order_type, order.trailing_amount, order.trailing_as_percent) == (
        "TRAIL",
        Decimal("1.5"),
        True,
    )
    assert order.limit_price is None and order.stop_price is None and order.trigger_price is None


def test_a_limit_if_touched_and_a_market_on_close_from_the_ticket_are_stored(
    client_in: Client, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = "2026-12-07T20:00:00Z"
    assert (
        post(client_in, project, order_type="LIT", trigger_price="210", limit_price="209.5").status_code
        == 200
    )
    assert (
        post(client_in, project, order_type="MOC", trailing_as_percent="on", quantity="3").status_code == 200
    )
    lit, moc = TradeOrder.objects.filter(project=project).order_by("id")
    assert (lit.trigger_price, lit.limit_price) == (Decimal(210), Decimal("209.5"))
    assert (moc.order_type, moc.trailing_as_percent, moc.time_in_force) == ("MOC", False, "DAY")


def test_a_trailing_stop_without_its_amount_is_refused_beside_the_field_in_zh_hans(
    client_in: Client, project: Project
) -> None:
    response = post(client_in, project, lang="zh-hans", order_type="TRAIL")
    assert response.status_code == 422
    html = response.content.decode()
    error = html[html.index('id="ticket-trailing_amount-error"') :][:300]
    assert "追踪止损单必填" in error
    assert not TradeOrder.objects.exists()


def test_a_market_on_close_past_its_cutoff_is_refused_in_zh_hans(
    client_in: Client, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = "2026-12-07T20:50:00Z"
    response = post(client_in, project, lang="zh-hans", order_type="MOC")
    assert response.status_code == 422
    assert (
        "收盘市价单必须在收盘前至少 15.5 分钟下达（今天纽约时间 15:44:30 之前）" in response.content.decode()
    )
    english = post(client_in, project, lang="en", order_type="MOC").content.decode()
    assert (
        "must be placed at least 15.5 minutes before the close (by 15:44:30 New York time today)" in english
    )


def test_a_market_on_close_good_till_canceled_is_refused(
    client_in: Client, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = "2026-12-07T20:00:00Z"
    response = post(client_in, project, order_type="MOC", time_in_force="GTC")
    assert response.status_code == 422
    assert "a market on close order is DAY only: IB sends it for one close" in response.content.decode()


def test_the_preview_values_a_sell_trailing_stop_at_where_it_would_sit(
    client_in: Client, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(200)
    response = client_in.get(
        reverse("live-trade-preview"),
        {"project": project.pk, "symbol": "AAPL", "quantity": "10", "order_type": "TRAIL", "side": "SELL",
         "trailing_amount": "5", "trailing_as_percent": "on"},
        **HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    assert "1,900" in response.content.decode()  # 10 x 200 x (1 - 5 %)
    assert preview_input({"order_type": "LIT", "trigger_price": "5", "side": "x"})["side"] == "BUY"


def test_the_blotter_and_the_timeline_show_the_trail_and_the_trigger(
    client_in: Client, project: Project
) -> None:
    trail = TradeOrderFactory(
        project=project, side="SELL", order_type="TRAIL", trailing_amount=Decimal("2.5"), trailing_as_percent=True,
        stop_price=Decimal("187.4"), status="SUBMITTED",
    )  # fmt: skip
    TradeOrderFactory(
        project=project, order_type="LIT", trigger_price=Decimal(185), limit_price=Decimal("185.5")
    )
    html = client_in.get(reverse("live-trade"), {"project": project.pk}).content.decode()
    assert re.search(
        r'data-testid="order-trail">trail 2\.50%</span> <span class="muted nowrap">187\.40', html
    )
    assert re.search(
        r'data-testid="order-trigger">if touched 185\.00</span> <span class="muted">@ 185\.50', html
    )
    detail = client_in.get(
        reverse("live-trade-order", args=[trail.pk]) + "?lang=zh-hans", **HTMX
    ).content.decode()
    assert "TRAIL 追踪 2.50%" in " ".join(detail.split())


def test_the_admin_shows_the_trailing_amount_and_the_trigger_read_only(project: Project) -> None:
    admin = Client()
    admin.force_login(UserFactory(username="lead", is_staff=True, is_superuser=True))
    order = TradeOrderFactory(project=project, order_type="TRAIL", trailing_amount=Decimal("1.25"))
    body = admin.get(reverse("admin:orders_tradeorder_change", args=[order.pk])).content.decode()
    for field in ("trailing_amount_shown", "trailing_as_percent", "trigger_price_shown"):
        assert f"field-{field}" in body
    assert 'name="trailing_amount"' not in body
    shown = re.search(r'field-trailing_amount_shown.*?<div class="readonly">([^<]*)<', body, re.S)
    assert shown is not None and shown.group(1).strip() == "1.25"
