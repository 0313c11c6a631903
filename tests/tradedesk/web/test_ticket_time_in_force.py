"""The ticket's time in force, its GTD date and the outside-RTH checkbox; the blotter and the timeline show them."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from execution.contract import market_hours
from orders.models import OUTSIDE_RTH_TYPES, Project, TradeOrder
from tests.factories import TradeOrderFactory
from tradedesk.web.reasons import translate_message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]
NEW_ORDER = reverse("live-trade-order-new")
HTMX = {"HTTP_HX_REQUEST": "true"}


def post(client: Client, project: Project, lang: str = "", **fields: Any) -> Any:
    data = {"project": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": "2", "order_type": "LMT"}
    data["limit_price"] = "1"
    url = NEW_ORDER + (f"?lang={lang}" if lang else "")
    return client.post(url, {**data, **fields}, **HTMX)


def ticket_html(client: Client, project: Project) -> str:
    return client.get(reverse("live-trade"), {"project": project.pk}).content.decode()


def test_the_ticket_offers_day_gtc_gtd_after_the_prices_and_lists_the_outside_rth_types(
    client_in: Client, project: Project
) -> None:
    html = ticket_html(client_in, project)
    form = html[html.index('id="ticket-form"') : html.index("</form>", html.index('id="ticket-form"'))]
    order = [name for name in re.findall(r'name="([a-z_]+)"', form) if name not in ("csrfmiddlewaretoken",)]
    # Keyboard order: what is traded, then how long and when it may trade.
    assert order.index("limit_price") < order.index("time_in_force") < order.index("good_till_date")
    assert order.index("good_till_date") < order.index("outside_rth")
    assert re.findall(r'<option value="(DAY|GTC|GTD)"( selected)?', form) == [
        ("DAY", " selected"),
        ("GTC", ""),
        ("GTD", ""),
    ]
    listed = re.search(r"data-outside-rth-field data-types=\"([^\"]*)\"", form)
    assert listed is not None and set(json.loads(listed.group(1).replace("&quot;", '"'))) == OUTSIDE_RTH_TYPES
    # A new ticket is MKT: the checkbox and the date start hidden.
    assert re.search(r"data-outside-rth-field[^>]* hidden", form) and re.search(
        r"data-gtd-field hidden", form
    )


def test_a_gtd_outside_rth_limit_from_the_ticket_is_stored(client_in: Client, project: Project) -> None:
    day = (timezone.now() + timedelta(days=9)).date()
    response = post(client_in, project, time_in_force="GTD", good_till_date=day.isoformat(), outside_rth="on")
    assert response.status_code == 200
    order = TradeOrder.objects.get(project=project)
    assert (order.time_in_force, order.good_till_date, order.outside_rth) == ("GTD", day, True)


def test_a_hidden_checkbox_or_date_is_not_sent(client_in: Client, project: Project) -> None:
    # The checkbox was ticked for a LMT, then the type became MKT; the date stays from a GTD choice.
    post(client_in, project, order_type="MKT", limit_price="", outside_rth="on", time_in_force="GTC",
         good_till_date="2030-01-02")  # fmt: skip
    order = TradeOrder.objects.get(project=project)
    assert (order.order_type, order.time_in_force, order.good_till_date, order.outside_rth) == (
        "MKT",
        "GTC",
        None,
        False,
    )


def test_a_gtd_without_its_date_is_refused_beside_the_field_in_zh_hans(
    client_in: Client, project: Project
) -> None:
    response = post(client_in, project, lang="zh-hans", time_in_force="GTD")
    assert response.status_code == 422
    html = response.content.decode()
    error = html[html.index('id="ticket-good_till_date-error"') :][:300]
    assert "GTD 订单必须选择有效日期" in error
    assert not TradeOrder.objects.exists()


def test_a_past_gtd_date_is_refused_in_english(client_in: Client, project: Project) -> None:
    response = post(client_in, project, time_in_force="GTD", good_till_date="2020-01-02")
    assert response.status_code == 422
    assert "must not be in the past: a GTD order expires at the close (16:00 New York) of its date" in (
        response.content.decode()
    )


def test_the_blotter_and_the_timeline_show_the_time_in_force(client_in: Client, project: Project) -> None:
    day = (timezone.now() + timedelta(days=9)).date()
    order = TradeOrderFactory(
        project=project, order_type="LMT", limit_price=1, time_in_force="GTD", good_till_date=day, outside_rth=True,
        params={"source": "manual", "project_id": project.pk, "mode": project.mode},
    )  # fmt: skip
    html = ticket_html(client_in, project)
    cell = re.search(r'data-testid="order-tif" title="([^"]*)">([^<]*)<', html)
    assert cell is not None
    assert cell.group(2).split() == ["GTD", day.strftime("%m-%d"), "·", "ext"]
    assert cell.group(1) == f"Good till date {day.isoformat()} · outside regular hours"
    detail = client_in.get(reverse("live-trade-order", args=[order.pk]), **HTMX).content.decode()
    shown = re.search(r'data-testid="detail-tif">([^<]*)<', detail)
    assert shown is not None
    assert (
        " ".join(shown.group(1).split()) == f"GTD · Good till date {day.isoformat()} · outside regular hours"
    )


def test_the_timeline_reads_in_zh_hans(client_in: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project, order_type="LMT", limit_price=1, time_in_force="GTC")
    detail = client_in.get(
        reverse("live-trade-order", args=[order.pk]) + "?lang=zh-hans", **HTMX
    ).content.decode()
    shown = re.search(r'data-testid="detail-tif">([^<]*)<', detail)
    assert shown is not None and " ".join(shown.group(1).split()) == "GTC · 撤销前有效"


@pytest.mark.parametrize(
    ("time_in_force", "outside_rth", "zh"),
    [
        ("DAY", False, "当日有效订单已在收盘时（纽约时间 16:00）撤销"),
        ("DAY", True, "当日有效订单已在盘后交易结束时（纽约时间 20:00）撤销"),
        ("GTD", False, "GTD 订单已在其有效日收盘时（纽约时间 16:00）失效"),
    ],
)
def test_the_engines_expiry_cancel_reads_in_zh_hans(time_in_force: str, outside_rth: bool, zh: str) -> None:
    message = market_hours.expiry_message(time_in_force=time_in_force, outside_rth=outside_rth)
    with translation.override("zh-hans"):
        assert translate_message(message) == zh


def test_the_blotter_marks_only_what_is_not_the_default_day_in_regular_hours(
    client_in: Client, project: Project
) -> None:
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    TradeOrderFactory(project=project, order_type="LMT", limit_price=1, params=params)
    TradeOrderFactory(project=project, order_type="LMT", limit_price=2, outside_rth=True, params=params)
    TradeOrderFactory(project=project, order_type="LMT", limit_price=3, time_in_force="GTC", params=params)
    marks = re.findall(r'data-testid="order-tif" title="[^"]*">([^<]*)<', ticket_html(client_in, project))
    assert sorted(" ".join(mark.split()) for mark in marks) == ["DAY · ext", "GTC"]
