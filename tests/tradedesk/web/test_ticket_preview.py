"""The ticket's server parts: the value preview and the symbol options, scoped to the trader's project."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Project
from orders.services import apply_fill_to_order
from orders.services.market import market_price_source_register
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db

PREVIEW = reverse("live-trade-preview")
SYMBOLS = reverse("live-trade-symbols")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def market(settings: Any) -> Iterator[dict[str, Decimal]]:
    settings.TRADEDESK_PRICE_BAND_SOFT_PCT = Decimal(10)
    settings.TRADEDESK_PRICE_BAND_HARD_PCT = Decimal(50)
    prices: dict[str, Decimal] = {}
    market_price_source_register(lambda mode, symbol: prices.get(symbol))
    yield prices
    from execution.prices import fresh_market_price

    market_price_source_register(fresh_market_price)


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
    response = client_in.get(PREVIEW, query, **HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert "≈ $4,213" in text
    assert "+12% vs last 188.10" in text
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
    text = client_in.get(PREVIEW, query, **HTMX).content.decode()
    assert "10x last 188.10" in text
    assert 'data-band="hard"' in text


def test_a_market_order_is_valued_at_the_last_fill_when_the_engine_has_no_price(
    client_in: Client, project: Project, market: dict[str, Decimal]
) -> None:
    order = TradeOrderFactory(project=project, symbol="MSFT", quantity=Decimal(1))
    apply_fill_to_order(order, quantity=1, price="410.45")
    text = client_in.get(
        PREVIEW, {"project": project.pk, "symbol": "MSFT", "quantity": "3"}, **HTMX
    ).content.decode()
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
    response = client_in.get(PREVIEW, {"project": project.pk, **query}, **HTMX)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    assert "preview-deviation" not in response.content.decode()


def test_the_preview_of_another_projects_order_is_not_found(
    client_in: Client, market: dict[str, Decimal]
) -> None:
    other = ProjectFactory(name="theirs", members=[UserFactory(username="bob")])
    response = client_in.get(PREVIEW, {"project": other.pk, "symbol": "AAPL", "quantity": "1"}, **HTMX)
    assert response.status_code == 404


def test_the_symbol_options_offer_the_projects_position_and_the_universe_not_another_projects(
    client_in: Client, project: Project, user: Any
) -> None:
    order = TradeOrderFactory(project=project, symbol="AAPX", quantity=Decimal(4))
    apply_fill_to_order(order, quantity=4, price="10")
    other = ProjectFactory(name="beta", members=[user])
    TradeOrderFactory(project=other, symbol="AAPY")
    response = client_in.get(SYMBOLS, {"project": project.pk, "symbol": "aap"}, **HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert text.index('value="AAPX"') < text.index('value="AAPL"')
    assert "position 4" in text
    assert "AAPY" not in text


def test_the_symbol_options_of_a_project_not_ones_own_are_not_found(client_in: Client) -> None:
    other = ProjectFactory(name="theirs", members=[UserFactory(username="bob")])
    assert client_in.get(SYMBOLS, {"project": other.pk, "symbol": "A"}, **HTMX).status_code == 404


def test_hostile_symbol_input_gets_no_options(client_in: Client, project: Project) -> None:
    response = client_in.get(SYMBOLS, {"project": project.pk, "symbol": "A%' OR 1=1 --"}, **HTMX)
    assert response.status_code == 200
    assert "<option" not in response.content.decode()


def test_the_parts_need_a_login_and_send_a_plain_request_to_the_page(
    client_in: Client, project: Project
) -> None:
    assert Client().get(SYMBOLS, {"project": project.pk}, **HTMX).status_code == 401
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
    text = client_in.get(PREVIEW, query, **HTMX).content.decode()
    assert "≈ $4,213" in text
    assert "较最新价 188.10 +12%" in text
    assert "偏离市价较大：需要确认" in text
    assert "vs last" not in text
