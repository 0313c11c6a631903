"""The trader's colour convention on the page and in the admin: <html data-colours> from the stored choice, else
TRADEDESK_COLOUR_CONVENTION, else the language; the choice posts and answers with the event that flips the
page's root; bad values are form errors; the polls never read the table."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import ColourChoice, OrderStatus, Position, Project
from orders.services import (
    apply_fill_to_order,
    colour_convention_remember,
    colour_convention_remembered,
    update_trade_order_status,
)
from tests.factories import TradeOrderFactory, UserFactory
from tradedesk.env import env_choice

pytestmark = pytest.mark.django_db

PAGE = reverse("live-trade")
SET_COLOURS = reverse("live-trade-colours")


@pytest.fixture(autouse=True)
def _by_language(settings: Any) -> None:
    settings.TRADEDESK_COLOUR_CONVENTION = "auto"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def root_colours(html: str) -> str:
    """The convention on the page's <html> element."""
    found = re.search(r'<html lang="[^"]*" data-colours="([^"]*)">', html)
    assert found is not None, html[:300]
    return found.group(1)


def page(client: Client, project: Project, **query: str) -> str:
    response = client.get(PAGE, {"project": project.pk, **query})
    assert response.status_code == 200
    return response.content.decode()


def holding(project: Project, *, realized: str) -> Position:
    """A position of 10 AAPL at 189.20 with the given realised P&L."""
    order = TradeOrderFactory(project=project, quantity=Decimal(10), params={"source": "seed"})
    update_trade_order_status(order, OrderStatus.SUBMITTED)
    apply_fill_to_order(order, quantity=10, price="189.20")
    update_trade_order_status(order, OrderStatus.FILLED)
    Position.objects.filter(project=project, symbol=order.symbol).update(realized_pnl=Decimal(realized))
    return Position.objects.get(project=project, symbol=order.symbol)


def test_with_no_choice_the_page_follows_its_language(user: Any, project: Project) -> None:
    client = signed_in(user)
    assert root_colours(page(client, project, lang="en")) == "green-up"
    zh = page(client, project, lang="zh-hans")
    assert root_colours(zh) == "red-up"
    assert '<option value="red-up" selected>红涨绿跌</option>' in zh
    # The browser's language decides as well as ?lang.
    fresh = signed_in(user).get(PAGE, {"project": project.pk}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert root_colours(fresh.content.decode()) == "red-up"


def test_the_desks_setting_overrides_the_language(user: Any, project: Project, settings: Any) -> None:
    settings.TRADEDESK_COLOUR_CONVENTION = "green-up"
    assert root_colours(page(signed_in(user), project, lang="zh-hans")) == "green-up"


def test_the_login_page_carries_the_default_too(client: Client) -> None:
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert root_colours(html) == "red-up"


def test_a_choice_sent_by_htmx_answers_with_the_event_that_flips_the_root(
    user: Any, project: Project
) -> None:
    client = signed_in(user)
    response = client.post(
        SET_COLOURS + "?lang=zh-hans", {"colours": "green-up", "project": project.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"td-colours": "green-up"}
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="colours-form"')
    assert '<option value="green-up" selected>' in html
    assert "涨跌颜色：绿涨红跌。" in html  # the notice, out of band
    assert colour_convention_remembered(user=user) == "green-up"
    # Stored per user, so a new session (another browser) opens in it, whatever its language.
    assert root_colours(page(signed_in(user), project, lang="zh-hans")) == "green-up"
    other = UserFactory(username="wei")
    project.members.add(other)
    assert root_colours(page(signed_in(other), project, lang="zh-hans")) == "red-up"


def test_a_plain_form_post_goes_back_to_the_page(user: Any, project: Project) -> None:
    client = signed_in(user)
    response = client.post(SET_COLOURS, {"colours": "red-up", "project": project.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"?project={project.pk}")
    assert root_colours(page(client, project, lang="en")) == "red-up"


@pytest.mark.parametrize("bad", ["", "blue-up", "RED-UP", "red-up<script>", "x" * 40])
def test_a_bad_value_is_a_form_error_and_nothing_changes(user: Any, project: Project, bad: str) -> None:
    colour_convention_remember(user=user, convention="red-up")
    client = signed_in(user)
    htmx = client.post(SET_COLOURS, {"colours": bad, "project": project.pk}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 422 and "HX-Trigger" not in htmx
    assert 'data-testid="colours-error"' in htmx.content.decode()
    plain = client.post(SET_COLOURS, {"colours": bad, "project": project.pk})
    assert plain.status_code == 422
    html = plain.content.decode()
    assert 'aria-invalid="true" aria-describedby="colours-error"' in html
    assert root_colours(html) == "red-up"
    assert colour_convention_remembered(user=user) == "red-up"


def test_the_error_is_translated(user: Any, project: Project) -> None:
    response = signed_in(user).post(
        SET_COLOURS + "?lang=zh-hans", {"colours": "blue", "project": project.pk}, HTTP_HX_REQUEST="true"
    )
    assert "未知的涨跌颜色方案" in response.content.decode()


def test_choosing_needs_a_login_a_post_and_a_project_of_ones_own(user: Any, project: Project) -> None:
    assert Client().post(SET_COLOURS, {"colours": "red-up"}).status_code == 302
    assert signed_in(user).get(SET_COLOURS).status_code == 405
    stranger = UserFactory(username="eve")
    assert (
        signed_in(stranger).post(SET_COLOURS, {"colours": "red-up", "project": project.pk}).status_code == 404
    )
    assert not ColourChoice.objects.exists()


def test_polls_never_read_the_colour_table(user: Any, project: Project) -> None:
    client = signed_in(user)
    colour_convention_remember(user=user, convention="red-up")
    page(client, project)
    with CaptureQueriesContext(connection) as polled:
        response = client.get(reverse("live-trade-orders"), {"project": project.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "orders_colourchoice" not in " ".join(query["sql"] for query in polled.captured_queries)


def test_the_pnl_cells_carry_their_sign_in_text_and_class(user: Any, project: Project) -> None:
    holding(project, realized="12.40")
    html = page(signed_in(user), project)
    assert re.search(r'class="num up" data-testid="position-realized-pnl">\+12\.40<', html)
    Position.objects.filter(project=project).update(realized_pnl=Decimal("-3"))
    html = page(signed_in(user), project)
    assert re.search(r'class="num down" data-testid="position-realized-pnl">−3\.00<', html)


def test_the_admin_follows_the_same_choice(project: Project) -> None:
    lead = UserFactory(username="lead", is_staff=True, is_superuser=True)
    holding(project, realized="12.40")
    client = signed_in(lead)
    changelist = reverse("admin:orders_position_changelist")
    html = client.get(changelist, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'src="/static/js/colours.js" data-colours="red-up"' in html
    assert 'href="/static/css/admin.css"' in html
    assert '<td class="field-realized_pnl_shown"><span class="td-signed up">+12.40</span></td>' in html
    colour_convention_remember(user=lead, convention="green-up")
    html = client.get(changelist, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'data-colours="green-up"' in html


def test_the_setting_must_name_a_convention(monkeypatch: pytest.MonkeyPatch) -> None:
    choices = ("auto", "red-up", "green-up")
    monkeypatch.setenv("TRADEDESK_COLOUR_CONVENTION", "red")
    with pytest.raises(ImproperlyConfigured, match="TRADEDESK_COLOUR_CONVENTION"):
        env_choice("TRADEDESK_COLOUR_CONVENTION", "auto", choices)
    monkeypatch.setenv("TRADEDESK_COLOUR_CONVENTION", "red-up")
    assert env_choice("TRADEDESK_COLOUR_CONVENTION", "auto", choices) == "red-up"
