"""The live-trade page: access, partials, the order ticket, row actions, kill switch, i18n, query count."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from execution.models import HoldingsDiscrepancy
from orders.models import OrderStatus, Position, Project, TradeOrder, TradingState
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]

PAGE = reverse("live-trade")
NEW_ORDER = reverse("live-trade-order-new")
HTMX = {"HTTP_HX_REQUEST": "true"}


def seed_position(
    project: Project, symbol: str = "AAPL", quantity: int = 10, price: str = "189.20"
) -> Position:
    """A filled seed order, so the project holds a position."""
    order = TradeOrderFactory(
        project=project,
        symbol=symbol,
        quantity=Decimal(quantity),
        params={"source": "seed", "project_id": project.pk, "mode": project.mode},
    )
    update_trade_order_status(order, OrderStatus.SUBMITTED)
    apply_fill_to_order(order, quantity=quantity, price=price)
    update_trade_order_status(order, OrderStatus.FILLED)
    return Position.objects.get(project=project, mode=project.mode, symbol=symbol)


def ticket(project: Project, **fields: Any) -> dict[str, Any]:
    """A ticket submission."""
    data = {
        "project": project.pk,
        "origin": "ticket",
        "client_order_id": f"oi_test_{fields.pop('key', 'k1')}",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": "1",
        "order_type": "MKT",
        "limit_price": "",
    }
    data.update(fields)
    return data


# ---- Access ------------------------------------------------------------------------------------------


def test_page_renders_both_tables_for_a_member(client_in: Client, project: Project) -> None:
    seed_position(project)
    response = client_in.get(PAGE, {"project": project.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="account-positions-table"' in body
    assert 'data-testid="orders-table"' in body
    assert "AAPL" in body
    assert (
        'hx-trigger="every 1s, sse:orders, td-rows-moved"' in body
    )  # polls every second while no stream is open
    assert "X-CSRFToken" in body


def test_the_page_names_the_final_statuses_for_its_announcements(client_in: Client, project: Project) -> None:
    """desk.js announces an order reaching one of these; the list is orders.models.FINAL_STATUSES."""
    body = client_in.get(PAGE, {"project": project.pk}).content.decode()
    assert 'data-final-statuses="CANCELED FAILED FILLED REJECTED"' in body


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/live-trade")


def test_anonymous_htmx_request_gets_a_redirect_header_not_a_login_page(
    client: Client, project: Project
) -> None:
    response = client.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_root_redirects_to_the_page(client_in: Client) -> None:
    response = client_in.get("/")
    assert response.status_code == 302
    assert response["Location"] == PAGE


def test_login_page_renders(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"desk.css" in response.content


def test_another_users_project_is_not_found(client_in: Client, db: Any) -> None:
    other = ProjectFactory(name="bravo", members=[UserFactory(username="bob")])
    assert client_in.get(PAGE, {"project": other.pk}).status_code == 404
    assert client_in.get(reverse("live-trade-orders"), {"project": other.pk}, **HTMX).status_code == 404
    assert client_in.get(PAGE, {"project": "999999"}).status_code == 404


def test_page_without_project_opens_the_first_project_with_positions(client_in: Client, user: Any) -> None:
    ProjectFactory(name="aaa-empty", members=[user])
    holding = ProjectFactory(name="zzz-holding", members=[user])
    seed_position(holding)
    response = client_in.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?project={holding.pk}"


def test_page_without_project_opens_the_project_used_last(
    client_in: Client, user: Any, project: Project
) -> None:
    holding = ProjectFactory(name="holding", members=[user])
    seed_position(holding)
    client_in.get(PAGE, {"project": project.pk})
    response = client_in.get(PAGE)
    assert response["Location"] == f"{PAGE}?project={project.pk}"


def test_htmx_request_gets_the_partial_only(client_in: Client, project: Project) -> None:
    response = client_in.get(PAGE, {"project": project.pk}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'data-testid="orders-table"' in body


def test_orders_poll_returns_the_table_and_out_of_band_parts(client_in: Client, project: Project) -> None:
    TradeOrderFactory(project=project, symbol="MSFT")
    response = client_in.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'data-testid="orders-table"' in body
    assert "MSFT" in body
    assert 'id="status-strip"' in body
    assert 'id="positions-panel"' in body  # no version sent: positions come along


def test_orders_poll_skips_positions_when_unchanged(client_in: Client, project: Project) -> None:
    seed_position(project)
    first = client_in.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX).content.decode()
    version = first.split('id="positions-version" name="pv" value="')[1].split('"')[0]
    again = client_in.get(reverse("live-trade-orders"), {"project": project.pk, "pv": version}, **HTMX)
    assert 'id="positions-panel"' not in again.content.decode()


def test_idle_poll_gets_no_content_until_something_changes(client_in: Client, project: Project) -> None:
    seed_position(project)
    page = client_in.get(PAGE, {"project": project.pk}).content.decode()
    versions = {
        "pv": page.split('id="positions-version" name="pv" value="')[1].split('"')[0],
        "ov": page.split('id="orders-version" name="ov" value="')[1].split('"')[0],
    }
    poll = reverse("live-trade-orders")
    idle = client_in.get(poll, {"project": project.pk, **versions}, **HTMX)
    assert idle.status_code == 204
    TradeOrderFactory(project=project, symbol="MSFT")
    changed = client_in.get(poll, {"project": project.pk, **versions}, **HTMX)
    assert changed.status_code == 200
    assert "MSFT" in changed.content.decode()
    assert 'id="positions-panel"' not in changed.content.decode()  # positions did not change


def test_order_timeline_shows_events_and_fills(client_in: Client, project: Project) -> None:
    seed_position(project)
    order = TradeOrder.objects.get(project=project)
    response = client_in.get(reverse("live-trade-order", args=[order.pk]), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Fill" in body and "189.20" in body
    assert 'hx-trigger="every 1s"' not in body  # a final order is not polled


def test_polled_timeline_of_a_final_order_stops_polling(client_in: Client, project: Project) -> None:
    seed_position(project)
    order = TradeOrder.objects.get(project=project)
    response = client_in.get(
        reverse("live-trade-order", args=[order.pk]), HTTP_HX_TRIGGER=f"timeline-{order.pk}", **HTMX
    )
    assert response.status_code == 286


def test_another_users_order_timeline_is_not_found(client_in: Client, db: Any) -> None:
    order = TradeOrderFactory(project=ProjectFactory(name="bravo"))
    assert client_in.get(reverse("live-trade-order", args=[order.pk]), **HTMX).status_code == 404


# ---- The order ticket --------------------------------------------------------------------------------


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


# ---- Positions rows ----------------------------------------------------------------------------------


def row(project: Project, side: str, quantity: str, key: str, symbol: str = "AAPL") -> dict[str, Any]:
    """A positions row's Buy / Sell."""
    return {
        "project": project.pk,
        "origin": "row",
        "symbol": symbol,
        "side": side,
        "order_type": "MKT",
        "quantity": quantity,
        "client_order_id": key,
    }


def test_row_buy_then_sell_are_two_orders(client_in: Client, project: Project) -> None:
    seed_position(project)
    buy = client_in.post(NEW_ORDER, row(project, "BUY", "1", "oi_row_1"), **HTMX)
    sell = client_in.post(NEW_ORDER, row(project, "SELL", "1", "oi_row_2"), **HTMX)
    assert buy.status_code == sell.status_code == 200
    manual = TradeOrder.objects.filter(params__source="manual").order_by("id")
    assert [o.side for o in manual] == ["BUY", "SELL"]
    body = sell.content.decode()
    assert 'data-testid="account-positions-table"' in body
    assert '"client_order_id": "oi_row_2"' not in body  # the row rendered fresh keys


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "", "2000000"])
def test_row_bad_quantity_shows_the_error_in_the_row(
    client_in: Client, project: Project, quantity: str
) -> None:
    position = seed_position(project)
    response = client_in.post(NEW_ORDER, row(project, "BUY", quantity, "oi_row_bad"), **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    error = body.split(f'id="qty-{position.pk}-error" data-testid="row-error">')[1].split("</div>")[0]
    assert error.strip()
    assert f'value="{quantity}"' in body
    assert not TradeOrder.objects.filter(params__source="manual").exists()


def test_close_sends_the_opposite_side_for_the_whole_position(client_in: Client, project: Project) -> None:
    seed_position(project, quantity=10)
    response = client_in.post(
        reverse("live-trade-close"), {"project": project.pk, "symbols": ["AAPL"]}, **HTMX
    )
    assert response.status_code == 200
    order = TradeOrder.objects.get(params__source="manual")
    assert (order.side, order.quantity, order.params["action"]) == ("SELL", Decimal(10), "close")


def test_close_selected_without_a_selection_says_so(client_in: Client, project: Project) -> None:
    seed_position(project)
    response = client_in.post(reverse("live-trade-close"), {"project": project.pk}, **HTMX)
    assert response.status_code == 422
    assert "Select at least one position" in response.content.decode()


def test_liquidate_closes_every_position(client_in: Client, project: Project) -> None:
    seed_position(project, "AAPL", 10)
    seed_position(project, "MSFT", 5, "410.45")
    response = client_in.post(reverse("live-trade-liquidate"), {"project": project.pk}, **HTMX)
    assert response.status_code == 200
    closing = TradeOrder.objects.filter(params__source="manual").order_by("symbol")
    assert [(o.symbol, o.side, o.quantity) for o in closing] == [("AAPL", "SELL", 10), ("MSFT", "SELL", 5)]


def test_live_liquidate_needs_the_project_name(client_in: Client, project: Project, user: Any) -> None:
    seed_position(project)
    Project.objects.filter(pk=project.pk).update(mode="live")
    Position.objects.update(mode="live")
    user.is_superuser = True  # holds orders.trade_live
    user.save()
    refused = client_in.post(reverse("live-trade-liquidate"), {"project": project.pk}, **HTMX)
    assert refused.status_code == 422
    assert not TradeOrder.objects.filter(params__source="manual").exists()
    accepted = client_in.post(
        reverse("live-trade-liquidate"), {"project": project.pk, "confirm_name": "alpha"}, **HTMX
    )
    assert accepted.status_code == 200
    assert TradeOrder.objects.filter(params__source="manual", mode="live").count() == 1


def test_header_shows_engine_state_and_reconciliation_flag(client_in: Client, project: Project) -> None:
    body = client_in.get(PAGE, {"project": project.pk}).content.decode()
    assert "not started" in body
    assert 'data-testid="recon-flag"' not in body
    now = datetime.now(UTC)
    HoldingsDiscrepancy.objects.create(
        mode="paper", symbol="AAPL", engine_quantity=5, ledger_quantity=4, first_seen_at=now, last_seen_at=now
    )
    HoldingsDiscrepancy.objects.create(
        mode="live", symbol="MSFT", engine_quantity=5, ledger_quantity=4, first_seen_at=now, last_seen_at=now
    )
    body = client_in.get(PAGE, {"project": project.pk}).content.decode()
    flag = body.split('data-testid="recon-flag"')[1][:300]
    assert "AAPL" in flag and "MSFT" not in flag and "Reconcile: 1 symbol" in flag


def test_live_project_is_unmistakable(client_in: Client, project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(mode="live")
    body = client_in.get(PAGE, {"project": project.pk}).content.decode()
    assert "is-live" in body and ">LIVE<" in body
    assert "data-confirm-name" in body


# ---- Kill switch and cancel --------------------------------------------------------------------------


def test_kill_switch_halts_and_then_a_new_order_is_refused(client_in: Client, project: Project) -> None:
    working = TradeOrderFactory(project=project)
    response = client_in.post(
        reverse("live-trade-trading-state"), {"project": project.pk, "state": "HALTED"}, **HTMX
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.trading_state == TradingState.HALTED
    working.refresh_from_db()
    assert working.status == OrderStatus.CANCELED  # never sent: canceled locally
    assert "Trading halted" in response.content.decode()
    refused = client_in.post(NEW_ORDER, ticket(project), **HTMX)
    assert refused.status_code == 422
    assert "trading is halted" in refused.content.decode()
    assert TradeOrder.objects.count() == 1
    back = client_in.post(
        reverse("live-trade-trading-state"), {"project": project.pk, "state": "ACTIVE"}, **HTMX
    )
    assert back.status_code == 200
    assert client_in.post(NEW_ORDER, ticket(project, key="k9"), **HTMX).status_code == 200


def test_cancel_of_an_unsent_order_cancels_it(client_in: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project)
    response = client_in.post(reverse("live-trade-order-cancel", args=[order.pk]), **HTMX)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


def test_cancel_of_a_final_order_explains_why_not(client_in: Client, project: Project) -> None:
    seed_position(project)
    order = TradeOrder.objects.get()
    response = client_in.post(reverse("live-trade-order-cancel", args=[order.pk]), **HTMX)
    assert response.status_code == 409
    assert "cannot be canceled" in response.content.decode()


# ---- i18n and performance ----------------------------------------------------------------------------


def test_page_renders_in_simplified_chinese(client_in: Client, project: Project) -> None:
    seed_position(project)
    response = client_in.get(PAGE, {"project": project.pk, "lang": "zh-hans"})
    body = response.content.decode()
    for label in ("买入", "卖出", "平仓", "全部平仓"):
        assert label in body
    assert response.cookies["django_language"].value == "zh-hans"
    again = client_in.get(PAGE, {"project": project.pk}).content.decode()
    assert "全部平仓" in again  # the choice sticks
    back = client_in.get(PAGE, {"project": project.pk, "lang": "en"}).content.decode()
    assert "Liquidate all" in back and "全部平仓" not in back


def test_page_follows_the_browsers_language(client_in: Client, project: Project) -> None:
    seed_position(project)
    body = client_in.get(
        PAGE, {"project": project.pk}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    ).content.decode()
    assert "买入" in body


def test_page_query_count_does_not_grow_with_rows(
    client_in: Client, project: Project, django_assert_max_num_queries: Any
) -> None:
    seed_position(project, "AAPL")
    for _ in range(4):
        TradeOrderFactory(project=project)
    client_in.get(PAGE, {"project": project.pk})  # the session settles on this project
    poll = reverse("live-trade-orders")
    client_in.get(poll, {"project": project.pk}, **HTMX)  # and the settled session enters the auth cache
    with CaptureQueriesContext(connection) as page_few:
        client_in.get(PAGE, {"project": project.pk})
    with CaptureQueriesContext(connection) as poll_few:
        client_in.get(poll, {"project": project.pk}, **HTMX)
    assert TradeOrder.objects.count() == 5

    for number in range(45):
        TradeOrderFactory(project=project, symbol=f"S{number}")
    for symbol in ("MSFT", "NVDA", "TSLA"):
        seed_position(project, symbol)
    assert TradeOrder.objects.count() == 50 + 3
    with django_assert_max_num_queries(len(page_few)) as page_many:
        client_in.get(PAGE, {"project": project.pk})
    with django_assert_max_num_queries(len(poll_few)) as poll_many:
        client_in.get(poll, {"project": project.pk}, **HTMX)
    assert len(page_many) == len(page_few)
    assert len(poll_many) == len(poll_few)


def test_mode_switch_to_live_needs_permission_and_the_typed_name(
    client_in: Client, project: Project, user: Any
) -> None:
    from django.contrib.auth.models import Permission

    url = "/live-trade/mode"
    client_in.post(url, {"project": project.pk, "mode": "live", "confirm_name": project.name})
    project.refresh_from_db()
    assert project.mode == "paper"  # no orders.trade_live permission
    user.user_permissions.add(Permission.objects.get(codename="trade_live"))
    client_in.post(url, {"project": project.pk, "mode": "live", "confirm_name": "wrong"})
    project.refresh_from_db()
    assert project.mode == "paper"
    response = client_in.post(
        url, {"project": project.pk, "mode": "live", "confirm_name": project.name}, HTTP_HX_REQUEST="true"
    )
    project.refresh_from_db()
    assert project.mode == "live" and response["HX-Redirect"].startswith("/live-trade")
    assert 'data-testid="mode-switch"' in client_in.get(PAGE, {"project": project.pk}).content.decode()
    client_in.post(url, {"project": project.pk, "mode": "paper"})
    project.refresh_from_db()
    assert project.mode == "paper"
