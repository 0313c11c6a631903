"""The order list and the page's orders partial issue a constant number of SQL queries, whatever the rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def auth_reads(page: bool) -> int:
    """Queries authentication costs: none from the warm shared auth cache; else the token (API) or the
    session and its user (page)."""
    if settings.TRADEDESK_AUTH_CACHE_SECONDS:
        return 0
    return 2 if page else 1


def add_orders(project: Any, user: Any, count: int) -> None:
    for _ in range(count):
        TradeOrderFactory(project=project, created_by=user, quantity=Decimal(3))


def queries(client: Client, path: str, **headers: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def test_order_list_queries_do_not_grow_with_the_orders(api: Client, project: Any, user: Any) -> None:
    add_orders(project, user, 5)
    queries(api, "/api/trade/orders?limit=50")  # warm-up: the token's last use is recorded once a minute
    five = queries(api, "/api/trade/orders?limit=50")
    assert len(api.get("/api/trade/orders?limit=50").json()["items"]) == 5
    add_orders(project, user, 45)
    fifty = queries(api, "/api/trade/orders?limit=50")
    assert len(api.get("/api/trade/orders?limit=50").json()["items"]) == 50
    assert fifty == five == 1 + auth_reads(page=False)  # the page of orders with its capped count


def test_orders_partial_queries_do_not_grow_with_the_orders(client: Client, project: Any, user: Any) -> None:
    client.force_login(user)
    path = f"/live-trade/orders?project={project.pk}"
    add_orders(project, user, 5)
    queries(client, path, HTTP_HX_REQUEST="true")  # copies the time zone into the session (a save)
    queries(client, path, HTTP_HX_REQUEST="true")  # the saved session enters the auth cache
    five = queries(client, path, HTTP_HX_REQUEST="true")
    add_orders(project, user, 45)
    fifty = queries(client, path, HTTP_HX_REQUEST="true")
    # The project with its counters, reconciliation flags, orders, positions, today's fills (day P&L), the
    # day's P&L samples (the chart), the page's permissions (one read: tradedesk.auth_backends), the mode's
    # engine halt.
    assert fifty == five == 8 + auth_reads(page=True)


def test_idle_poll_answers_204_from_the_counters_without_reading_orders(
    client: Client, project: Any, user: Any
) -> None:
    from orders.models import ProjectVersion

    client.force_login(user)
    add_orders(project, user, 5)
    # Past the few seconds in which just-changed orders are highlighted (the version follows the clock then).
    ProjectVersion.objects.filter(project=project).update(changed_at="2020-01-01T00:00:00Z")
    page = client.get(f"/live-trade?project={project.pk}").content.decode()
    ov, pv = (page.split(f'name="{name}" value="')[1].split('"')[0] for name in ("ov", "pv"))
    path = f"/live-trade/orders?project={project.pk}&ov={ov}&pv={pv}"
    client.get(path, HTTP_HX_REQUEST="true")  # the session and user enter the auth cache
    with CaptureQueriesContext(connection) as idle:
        response = client.get(path, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    sql = " ".join(query["sql"] for query in idle.captured_queries)
    assert "orders_tradeorder" not in sql and "orders_position" not in sql, sql
    # The project with its change counters, nothing else (round 2: 3, with the session and the user).
    assert len(idle) == 1 + auth_reads(page=True), [query["sql"] for query in idle.captured_queries]
    add_orders(project, user, 1)
    assert client.get(path, HTTP_HX_REQUEST="true").status_code == 200
