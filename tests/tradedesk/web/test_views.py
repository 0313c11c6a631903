"""The live-trade page and its partials: both tables, the header, the polls, an order's timeline, the languages, the query count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from execution.models import HoldingsDiscrepancy
from orders.models import Project, TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory
from tests.tradedesk.web.desk_page import HTMX, PAGE, seed_position

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def test_page_renders_both_tables_for_a_member(client_in: Client, project: Project) -> None:
    seed_position(project)
    response = client_in.get(PAGE, {"project": project.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="account-positions-table"' in body
    assert 'data-testid="orders-table"' in body
    assert "AAPL" in body
    assert (
        'hx-trigger="every 1s, sse:orders, td-rows-moved, td-orders-owed"' in body
    )  # polls every second while no stream is open
    assert "X-CSRFToken" in body


def test_the_page_names_the_final_statuses_for_its_announcements(client_in: Client, project: Project) -> None:
    """desk.js announces an order reaching one of these; the list is orders.models.FINAL_STATUSES."""
    body = client_in.get(PAGE, {"project": project.pk}).content.decode()
    assert 'data-final-statuses="CANCELED FAILED FILLED REJECTED"' in body


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
