"""Submitting the page's order ticket: one order per key, refusals shown inline and creating nothing, CSRF."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.models import Project, TradeOrder
from tests.factories import ProjectFactory, UserFactory
from tests.tradedesk.web.desk_page import HTMX, NEW_ORDER, PAGE, ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def test_valid_buy_creates_one_manual_order_for_the_project(
    client_in: Client, project: Project, user: Any
) -> None:
    response = client_in.post(NEW_ORDER, ticket(project), **HTMX)
    assert response.status_code == 200
    order = TradeOrder.objects.get()
    assert (order.side, order.symbol, order.quantity, order.created_by) == ("BUY", "AAPL", Decimal(1), user)
    assert order.params["source"] == "manual"
    assert order.params["project_id"] == project.pk
    assert order.params["mode"] == project.mode
    body = response.content.decode()
    assert "Order placed" in body
    assert 'hx-swap-oob="morph"' in body and "oi_test_k1" not in body.split('name="client_order_id"')[1][:80]


def test_ticket_renders_a_fresh_key_after_each_accepted_order(client_in: Client, project: Project) -> None:
    body = client_in.post(NEW_ORDER, ticket(project), **HTMX).content.decode()
    key = body.split('name="client_order_id" value="')[1].split('"')[0]
    assert key.startswith(f"oi_{project.pk}_") and key != "oi_test_k1"
    client_in.post(NEW_ORDER, ticket(project, side="SELL", key="k2"), **HTMX)
    assert TradeOrder.objects.count() == 2


def test_double_submit_with_the_same_key_creates_one_order(client_in: Client, project: Project) -> None:
    first = client_in.post(NEW_ORDER, ticket(project, key="same"), **HTMX)
    second = client_in.post(NEW_ORDER, ticket(project, key="same"), **HTMX)
    assert first.status_code == second.status_code == 200
    assert TradeOrder.objects.count() == 1
    assert "Already placed" in second.content.decode()


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        ("0", "must be greater than 0"),
        ("-1", "must be greater than 0"),
        ("abc", "must be a number"),
        ("", "required"),
        ("1000001", "must be at most 1,000,000"),
    ],
)
def test_bad_quantity_is_shown_next_to_the_field_and_creates_nothing(
    client_in: Client, project: Project, quantity: str, reason: str
) -> None:
    response = client_in.post(NEW_ORDER, ticket(project, quantity=quantity), **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    error = body.split('data-testid="error-quantity">')[1].split("</div>")[0]
    assert reason in error
    assert f'name="quantity" id="ticket-quantity" value="{quantity}"' in body  # the input is kept
    assert TradeOrder.objects.count() == 0


def test_quantity_above_the_projects_limit_is_refused_inline(client_in: Client, project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(max_order_quantity=Decimal(5))
    response = client_in.post(NEW_ORDER, ticket(project, quantity="6"), **HTMX)
    assert response.status_code == 422
    assert "must be at most 5" in response.content.decode().split('data-testid="error-quantity">')[1]
    assert TradeOrder.objects.count() == 0


def test_limit_order_without_price_is_refused_inline(client_in: Client, project: Project) -> None:
    response = client_in.post(NEW_ORDER, ticket(project, order_type="LMT"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert (
        "required for a limit order" in body.split('data-testid="error-limit_price">')[1].split("</div>")[0]
    )
    assert "data-limit-field hidden" not in body  # the price field stays visible
    assert TradeOrder.objects.count() == 0


def test_limit_order_with_price_is_placed(client_in: Client, project: Project) -> None:
    response = client_in.post(NEW_ORDER, ticket(project, order_type="LMT", limit_price="150.5"), **HTMX)
    assert response.status_code == 200
    assert TradeOrder.objects.get().limit_price == Decimal("150.5")


def test_unknown_project_is_refused_inline(client_in: Client, project: Project) -> None:
    response = client_in.post(NEW_ORDER, {**ticket(project), "project": "999999"}, **HTMX)
    assert response.status_code == 422
    assert "unknown project" in response.content.decode().split('data-testid="error-form"')[1]
    assert TradeOrder.objects.count() == 0


def test_someone_elses_project_is_refused_and_creates_nothing(client_in: Client, project: Project) -> None:
    other = ProjectFactory(name="bravo", members=[UserFactory(username="bob")])
    response = client_in.post(NEW_ORDER, ticket(other), **HTMX)
    assert response.status_code == 422
    assert TradeOrder.objects.count() == 0


def test_non_htmx_ticket_redirects_after_success_and_renders_the_page_on_error(
    client_in: Client, project: Project
) -> None:
    ok = client_in.post(NEW_ORDER, ticket(project))
    assert ok.status_code == 302 and ok["Location"] == f"{PAGE}?project={project.pk}"
    bad = client_in.post(NEW_ORDER, ticket(project, quantity="0", key="k2"))
    assert bad.status_code == 422
    assert b"<html" in bad.content and b"must be greater than 0" in bad.content
    assert TradeOrder.objects.count() == 1


def test_csrf_is_enforced_on_posts(user: Any, project: Project) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(NEW_ORDER, ticket(project), **HTMX).status_code == 403
    page = client.get(PAGE, {"project": project.pk})
    token = page.content.decode().split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post(NEW_ORDER, ticket(project), HTTP_X_CSRFTOKEN=token, **HTMX).status_code == 200
