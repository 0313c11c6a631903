"""The orders admin over a long history: capped count, exact indexed search, filters from the choices, date
drill-down by index probes (tradedesk/admin/history.py, issue 22)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import ORDER_SOURCES, TradeOrder
from tests.factories import TradeOrderFactory, UserFactory
from tradedesk.admin.history import COUNT_CAP, HistoryQuerySet

pytestmark = pytest.mark.django_db
URL = "/admin/orders/tradeorder/"


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="lead", is_staff=True, is_superuser=True))
    return client


def add_orders(project: Any, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_tradeorder (client_order_id, project_id, mode, symbol, side, quantity, order_type,
                status, filled_quantity, filled_notional, fees, status_message, params, dispatch_attempts, flag,
                flag_message, review_note, created_at, updated_at, overfilled, future_event_time, update_pending)
            SELECT 'oc_' || k, %s, 'paper', 'MSFT', 'BUY', 1, 'MKT', 'CANCELED', 0, 0, 0, '',
                   '{"source": "manual"}', 1, '', '', '', now() - k * interval '1 minute', now(), false, false, false
            FROM generate_series(1, %s) AS k
            """,
            [project.pk, count],
        )


def test_a_count_past_the_cap_says_more_than_and_no_full_count_runs(
    staff_client: Client, project: Any
) -> None:
    add_orders(project, COUNT_CAP + 1)
    with CaptureQueriesContext(connection) as captured:
        page = staff_client.get(URL).content.decode()
    assert "more than 10,000 trade orders" in page or "more than 10000 trade orders" in page
    counts = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counts and all(f"LIMIT {COUNT_CAP + 1}" in sql for sql in counts)


def test_a_count_under_the_cap_is_exact(staff_client: Client, project: Any) -> None:
    add_orders(project, 3)
    page = staff_client.get(URL).content.decode()
    assert "3 trade orders" in page and "more than" not in page


def test_search_matches_the_symbol_in_any_case_the_client_order_id_and_the_engine_id(
    staff_client: Client, project: Any
) -> None:
    aapl = TradeOrderFactory(project=project, symbol="AAPL", client_order_id="desk-1", quantity=Decimal(1))
    msft = TradeOrderFactory(project=project, symbol="MSFT", client_order_id="desk-2", ib_order_id=4711)

    def found(term: str) -> set[str]:
        response = staff_client.get(URL, {"q": term})
        return {order.client_order_id for order in response.context["cl"].result_list}

    assert found("aapl") == found("AAPL") == {aapl.client_order_id}
    assert found("desk-2") == {msft.client_order_id}
    assert found("4711") == {msft.client_order_id}
    assert found("AAP") == found("desk") == set()  # exact, not a substring: every match is an index lookup


def test_the_source_filter_lists_the_sources_without_reading_the_orders(
    staff_client: Client, project: Any
) -> None:
    TradeOrderFactory(project=project, params={"source": "manual"})
    with CaptureQueriesContext(connection) as captured:
        page = staff_client.get(URL).content.decode()
    for source in ORDER_SOURCES:
        assert f"?source={source}" in page
    assert not any("DISTINCT" in query["sql"].upper() for query in captured.captured_queries)


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_date_drill_down_periods_are_the_distinct_periods_of_the_rows(project: Any, kind: str) -> None:
    moments = [datetime(2024, 12, 31, 23, 30, tzinfo=UTC), datetime(2025, 1, 1, 4, 59, tzinfo=UTC)]
    moments += [datetime(2025, 3, 9, 12, tzinfo=UTC), datetime(2025, 3, 9, 13, tzinfo=UTC)]
    moments += [datetime(2026, 11, 2, 5, tzinfo=UTC)]
    for moment in moments:
        order = TradeOrderFactory(project=project)
        TradeOrder.objects.filter(pk=order.pk).update(created_at=moment)
    rows = TradeOrder.objects.filter(project=project)
    with timezone.override("America/New_York"):  # the zone moves orders across a day, a year
        probed = HistoryQuerySet(TradeOrder, query=rows.query.chain()).datetimes("created_at", kind)
        distinct = list(rows.datetimes("created_at", kind))
    assert probed == distinct
