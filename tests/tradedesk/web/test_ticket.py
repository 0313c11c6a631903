"""The ticket's server parts: the value preview and the symbol options, scoped to the trader's project."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Project, TradeOrder
from orders.services import apply_fill_to_order
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db

PREVIEW = reverse("live-trade-preview")
SYMBOLS = reverse("live-trade-symbols")
HTMX = {"HX-Request": "true"}


def htmx_get(client: Client, url: str, query: dict[str, Any]) -> Any:
    """An HTMX GET of one of the ticket's parts."""
    return client.get(url, query, headers=HTMX)


def other_project(user: Any, name: str = "theirs") -> Project:
    project: Project = ProjectFactory(name=name, members=[user])  # type: ignore[assignment]
    return project


def filled(project: Project, symbol: str, quantity: int, price: str) -> None:
    order: TradeOrder = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(quantity))  # type: ignore[assignment]
    apply_fill_to_order(order, quantity=quantity, price=price)


def test_the_preview_shows_the_value_and_the_distance_from_the_last_price(
    client_in: Client, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.10")
    query = {
        "project": project.pk,
        "symbol": "aapl",
        "quantity": "20",
        "order_type": "LMT",
        "limit_price": "210.67",
    }
    response = htmx_get(client_in, PREVIEW, query)
    assert response.status_code == 200
    text = response.content.decode()
    assert "≈ $4,213" in text
    assert '<span class="up">+12%</span> vs last 188.10' in text  # the distance coloured by its sign
    assert 'data-band="soft"' in text


def test_a_tenfold_limit_reads_as_a_multiple(
    client_in: Client, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.10")
    query = {
        "project": project.pk,
        "symbol": "AAPL",
        "quantity": "1",
        "order_type": "LMT",
        "limit_price": "1881",
    }
    text = htmx_get(client_in, PREVIEW, query).content.decode()
    assert '<span class="up">10</span>x last 188.10' in text
    assert 'data-band="hard"' in text


def test_a_market_order_is_valued_at_the_last_fill_when_the_engine_has_no_price(
    client_in: Client, project: Project, market: dict[str, Decimal]
) -> None:
    filled(project, "MSFT", 1, "410.45")
    query = {"project": project.pk, "symbol": "MSFT", "quantity": "3"}
    text = htmx_get(client_in, PREVIEW, query).content.decode()
    assert "≈ $1,231" in text
    assert "at last fill 410.45" in text


@pytest.mark.parametrize(
    "query",
    [
        {"symbol": "AAPL", "quantity": "abc"},
        {"symbol": "AAPL", "quantity": "-5"},
        {"symbol": "AAPL", "quantity": "NaN"},
        {"symbol": "AAPL", "quantity": "1e400"},
        {"symbol": "<script>", "quantity": "1"},
        {"symbol": "AAPL", "quantity": "1", "order_type": "DROP TABLE", "limit_price": "1" * 60},
    ],
)
def test_half_typed_or_hostile_input_previews_nothing_harmful(
    client_in: Client, project: Project, market: dict[str, Decimal], query: dict[str, str]
) -> None:
    market["AAPL"] = Decimal("100")
    response = htmx_get(client_in, PREVIEW, {"project": project.pk, **query})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    assert "preview-deviation" not in response.content.decode()


def test_the_preview_of_another_projects_order_is_not_found(
    client_in: Client, market: dict[str, Decimal]
) -> None:
    other = other_project(UserFactory(username="bob"))
    response = htmx_get(client_in, PREVIEW, {"project": other.pk, "symbol": "AAPL", "quantity": "1"})
    assert response.status_code == 404


def test_the_symbol_options_offer_the_projects_position_and_the_universe_not_another_projects(
    client_in: Client, project: Project, user: Any
) -> None:
    filled(project, "AAPX", 4, "10")
    other = other_project(user, "beta")
    TradeOrderFactory(project=other, symbol="AAPY")
    response = htmx_get(client_in, SYMBOLS, {"project": project.pk, "symbol": "aap"})
    assert response.status_code == 200
    text = response.content.decode()
    assert text.index('value="AAPX"') < text.index('value="AAPL"')
    assert "position 4" in text
    assert "AAPY" not in text


def test_the_symbol_options_of_a_project_not_ones_own_are_not_found(client_in: Client) -> None:
    other = other_project(UserFactory(username="bob"))
    assert htmx_get(client_in, SYMBOLS, {"project": other.pk, "symbol": "A"}).status_code == 404


def test_hostile_symbol_input_gets_no_options(client_in: Client, project: Project) -> None:
    response = htmx_get(client_in, SYMBOLS, {"project": project.pk, "symbol": "A%' OR 1=1 --"})
    assert response.status_code == 200
    assert "<option" not in response.content.decode()


def test_the_parts_need_a_login_and_send_a_plain_request_to_the_page(
    client_in: Client, project: Project
) -> None:
    assert htmx_get(Client(), SYMBOLS, {"project": project.pk}).status_code == 401
    response = client_in.get(PREVIEW, {"project": project.pk})
    assert response.status_code == 302
    assert response["Location"].endswith(f"project={project.pk}")


def test_the_preview_speaks_zh_hans(client_in: Client, project: Project, market: dict[str, Decimal]) -> None:
    market["AAPL"] = Decimal("188.10")
    query = {
        "project": project.pk,
        "symbol": "AAPL",
        "quantity": "20",
        "order_type": "LMT",
        "limit_price": "210.67",
        "lang": "zh-hans",
    }
    text = htmx_get(client_in, PREVIEW, query).content.decode()
    assert "≈ $4,213" in text
    assert '较最新价 188.10 <span class="up">+12%</span>' in text
    assert "偏离市价较大：需要确认" in text
    assert "vs last" not in text


def test_the_parts_cost_a_few_queries_however_many_orders_the_project_has(
    client_in: Client, project: Project, market: dict[str, Decimal]
) -> None:
    for n in range(30):
        filled(project, f"SYM{n}", 1, "10")
    # Warm: the first request after login copies the time zone into the session and fills the auth cache.
    for _ in range(2):
        htmx_get(client_in, SYMBOLS, {"project": project.pk, "symbol": "A"})
    queries: dict[str, int] = {}
    for name, url, query in (
        ("preview", PREVIEW, {"project": project.pk, "symbol": "SYM7", "quantity": "3"}),
        ("symbols", SYMBOLS, {"project": project.pk, "symbol": "SYM"}),
    ):
        with CaptureQueriesContext(connection) as captured:
            assert htmx_get(client_in, url, query).status_code == 200
        queries[name] = len(captured)
    # (session + user without the auth cache) + project, then the reference (position, fill) or the
    # candidates (positions, orders)
    assert queries["preview"] <= 5, queries
    assert queries["symbols"] <= 5, queries


def notices(html: str) -> list[str]:
    """The texts of the notices an answer adds."""
    return [text.strip() for text in re.findall(r'class="notice-text">([^<]*)<', html)]


def test_the_notices_of_placing_and_cancelling_name_the_order_as_a_trader_says_it(
    client_in: Client, project: Project, monkeypatch: Any, market: dict[str, Decimal]
) -> None:
    monkeypatch.setattr("execution.signals.dispatch_enqueue", lambda **kwargs: None)
    market["MSFT"] = Decimal("100")
    placed = client_in.post(
        reverse("live-trade-order-new"),
        {
            "project": project.pk,
            "symbol": "MSFT",
            "side": "BUY",
            "quantity": "3",
            "order_type": "LMT",
            "limit_price": "100",
        },
        headers=HTMX,
    )
    assert notices(placed.content.decode()) == ["Order placed: Buy 3 MSFT @ 100"]
    order = TradeOrder.objects.get(project=project, symbol="MSFT")
    canceled = client_in.post(reverse("live-trade-order-cancel", args=[order.pk]), headers=HTMX)
    assert notices(canceled.content.decode()) == ["Canceled: Buy 3 MSFT @ 100"]
