"""Fill exports: GET /api/trade/fills (CSV / JSON, streamed, scoped to the user's projects) and the admin actions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from orders.models import Project, TradeFill, TradeOrder
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db
URL = "/api/trade/fills"


def filled_order(project: Project, symbol: str, price: str, at: datetime, **fill: Any) -> TradeOrder:
    order = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(2), ib_order_id=41)
    update_trade_order_status(order, "SUBMITTED")
    apply_fill_to_order(order, quantity=2, price=price, **fill)
    TradeFill.objects.filter(order=order).update(
        filled_at=at, fee_currency="USD", run_id="r-1", engine_order_id=7
    )
    return order


def body(response: Any) -> str:
    assert response.streaming, "the export must stream"
    return b"".join(response.streaming_content).decode()


def test_csv_export_has_fee_currency_and_engine_ids(api: Client, project: Project) -> None:
    order = filled_order(project, "AAPL", "190.5", datetime(2026, 11, 25, 19, tzinfo=UTC))
    response = api.get(f"{URL}?project_id={project.pk}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["client_order_id"], row["symbol"], row["quantity"], row["price"]) == (
        order.client_order_id,
        "AAPL",
        "2",
        "190.5",
    )
    assert (row["fee_currency"], row["run_id"], row["engine_order_id"], row["ib_order_id"]) == (
        "USD",
        "r-1",
        "7",
        "41",
    )
    assert row["filled_at"] == "2026-11-25T19:00:00+00:00"


def test_json_export_filters_by_time_window(api: Client, project: Project) -> None:
    filled_order(project, "AAPL", "1", datetime(2026, 11, 24, tzinfo=UTC))
    filled_order(project, "MSFT", "2", datetime(2026, 11, 25, 12, tzinfo=UTC))
    filled_order(project, "NVDA", "3", datetime(2026, 11, 26, tzinfo=UTC))
    response = api.get(f"{URL}?format=json&since=2026-11-25T00:00:00Z&until=2026-11-26T00:00:00Z")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(body(response))
    assert [row["symbol"] for row in data] == ["MSFT"]
    assert data[0]["fee_currency"] == "USD" and data[0]["engine_order_id"] == 7


def test_export_of_nothing_is_an_empty_list_and_a_header(api: Client, project: Project) -> None:
    assert json.loads(body(api.get(f"{URL}?format=json"))) == []
    assert body(api.get(URL)).splitlines() == [
        "fill_id,filled_at,order_id,client_order_id,project_id,mode,symbol,side,order_type,quantity,price,fee,"
        "fee_currency,run_id,engine_order_id,ib_order_id,event_key"
    ]


def test_export_never_shows_another_users_fills(api: Client, project: Project) -> None:
    other = ProjectFactory(name="beta")
    filled_order(other, "TSLA", "1", timezone.now())
    assert json.loads(body(api.get(f"{URL}?format=json"))) == []
    assert api.get(f"{URL}?project_id={other.pk}").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [("format=xml", "format"), ("since=2026-11-26T00:00:00Z&until=2026-11-25T00:00:00Z", "until")],
)
def test_bad_export_query_is_422(api: Client, project: Project, query: str, field: str) -> None:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 422 and field in response.json()["errors"]


def test_export_needs_authentication(client: Client) -> None:
    assert client.get(URL).status_code == 401


def test_export_rows_come_from_a_chunked_cursor(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db.models import QuerySet

    from orders import exports

    filled_order(project, "AAPL", "1", timezone.now())
    chunk_sizes: list[int] = []
    real = QuerySet.iterator

    def spy(self: QuerySet[Any], chunk_size: int | None = None) -> Any:
        chunk_sizes.append(chunk_size or 0)
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    rows = list(exports.fill_rows(TradeFill.objects.all()))
    assert len(rows) == 1 and chunk_sizes == [exports.CHUNK_ROWS]


def test_admin_exports_fills_of_selected_orders_and_selected_fills(client: Client, project: Project) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    first = filled_order(project, "AAPL", "1", timezone.now())
    filled_order(project, "MSFT", "2", timezone.now())

    response = client.post(
        "/admin/orders/tradeorder/",
        {"action": "export_order_fills", "_selected_action": [first.pk]},
    )
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["symbol"] for row in rows] == ["AAPL"]

    fill_ids = list(TradeFill.objects.values_list("pk", flat=True))
    response = client.post("/admin/orders/tradefill/", {"action": "export_csv", "_selected_action": fill_ids})
    assert sorted(row["symbol"] for row in csv.DictReader(io.StringIO(body(response)))) == ["AAPL", "MSFT"]
    assert client.get("/admin/orders/tradefill/").status_code == 200
