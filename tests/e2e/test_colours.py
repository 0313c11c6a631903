"""Direction colours in headless Chromium: a Chinese page with no choice made reads red up (a gain's P&L and Buy
in the red family), an English one green up; the trader's choice flips them without a reload, survives a new
session, and the admin's P&L column follows it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from orders.models import OrderStatus, Position, Project, TradeOrder
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.e2e.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e]


@pytest.fixture(autouse=True)
def _by_language(settings: Any) -> None:
    settings.TRADEDESK_COLOUR_CONVENTION = "auto"


def seeded_order(project: Project, symbol: str, quantity: int, key: str) -> TradeOrder:
    """A BUY the engine never sees (source "seed"), SUBMITTED, so it shows in the blotter."""
    order = TradeOrder.objects.create(
        client_order_id=f"seed_{project.pk}_{key}",
        project=project,
        mode=project.mode,
        symbol=symbol,
        side="BUY",
        quantity=Decimal(quantity),
        params={"source": "seed", "project_id": project.pk, "mode": project.mode},
    )
    update_trade_order_status(order, OrderStatus.SUBMITTED, message="seeded")
    return order


def gaining_position(project: Project) -> Position:
    """20 AAPL bought at 150 and 170: valued at the last fill (170) that is +200.00 unrealised, +12.40 realised."""
    order = seeded_order(project, "AAPL", 20, "colours")
    apply_fill_to_order(order, quantity=10, price="150")
    apply_fill_to_order(order, quantity=10, price="170")
    update_trade_order_status(order, OrderStatus.FILLED, message="seeded")
    Position.objects.filter(project=project).update(realized_pnl=Decimal("12.40"))
    return Position.objects.get(project=project)


def colour(locator: Locator, prop: str = "color") -> tuple[int, int, int]:
    value = locator.evaluate(f"e => getComputedStyle(e).{prop}")
    r, g, b = (int(float(part)) for part in re.findall(r"[\d.]+", value)[:3])
    return r, g, b


def family(locator: Locator, prop: str = "color") -> str:
    """red, green or neither, from the computed colour."""
    r, g, b = colour(locator, prop)
    if r > 1.5 * g and r > 1.5 * b:
        return "red"
    if g > 1.5 * r and g > b:
        return "green"
    return f"neither rgb({r}, {g}, {b})"


def open_page(page: Page, base_url: str, user: Any, project: Project, lang: str = "") -> None:
    log_in(page.context, base_url, user)
    page.goto(f"{base_url}/live-trade?project={project.pk}{f'&lang={lang}' if lang else ''}")
    expect(page.get_by_test_id("position-pnl")).to_have_text("+200.00")


def direction_families(page: Page) -> dict[str, str]:
    row = page.locator("#positions-panel tr[data-symbol=AAPL]")
    return {
        "unrealised": family(row.get_by_test_id("position-pnl")),
        "realised": family(row.get_by_test_id("position-realized-pnl")),
        "total": family(page.get_by_test_id("total-unrealized-pnl")),
        "row buy": family(row.get_by_test_id("row-buy")),
        "row sell": family(row.get_by_test_id("row-sell")),
        "ticket buy": family(page.locator("label[for=ticket-side-buy]"), "backgroundColor"),
        "blotter buy": family(page.locator("#orders-panel td.side-buy").first),
    }


RED_UP = {
    "unrealised": "red",
    "realised": "red",
    "total": "red",
    "row buy": "red",
    "row sell": "green",
    "ticket buy": "red",
    "blotter buy": "red",
}
GREEN_UP = {key: {"red": "green", "green": "red"}[value] for key, value in RED_UP.items()}


def test_chinese_with_no_choice_reads_red_up_and_english_green_up(
    page: Page, browser: Browser, live_server: Any, transactional_db: Any, user: Any, project: Project
) -> None:
    gaining_position(project)
    open_page(page, live_server.url, user, project, lang="en")
    expect(page.locator("html")).to_have_attribute("data-colours", "green-up")
    assert direction_families(page) == GREEN_UP
    # The sign stays in the text, so colour is never the only signal.
    expect(page.get_by_test_id("position-realized-pnl")).to_have_text("+12.40")

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        zh = context.new_page()
        open_page(zh, live_server.url, user, project)
        expect(zh.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(zh.locator("html")).to_have_attribute("data-colours", "red-up")
        expect(zh.get_by_test_id("colours-select")).to_have_value("red-up")
        assert direction_families(zh) == RED_UP
    finally:
        context.close()


def test_switching_flips_the_colours_without_a_reload_and_survives_a_new_session(
    page: Page, browser: Browser, live_server: Any, transactional_db: Any, user: Any, project: Project
) -> None:
    gaining_position(project)
    open_page(page, live_server.url, user, project, lang="en")
    assert direction_families(page) == GREEN_UP
    page.evaluate("window.__sameDocument = true")

    page.get_by_test_id("colours-select").select_option("red-up")
    expect(page.locator("html")).to_have_attribute("data-colours", "red-up")
    expect(page.get_by_test_id("notices")).to_contain_text("Red up / green down")
    assert direction_families(page) == RED_UP
    assert page.evaluate("window.__sameDocument") is True  # no reload
    # A row the poll brings later takes the new colours too (they come from the root, not the markup).
    seeded_order(project, "MSFT", 1, "later")
    side = page.locator("#orders-panel tr.order-row:has(td.sym:text-is('MSFT')) td.side-buy")
    expect(side).to_be_visible()
    assert family(side) == "red"
    assert page.evaluate("window.__sameDocument") is True

    # Stored for the user: a new session, in English, opens red up.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        second = context.new_page()
        open_page(second, live_server.url, user, project)
        expect(second.locator("html")).to_have_attribute("data-colours", "red-up")
        assert direction_families(second) == RED_UP

        # And back, again in place.
        second.get_by_test_id("colours-select").select_option("green-up")
        expect(second.locator("html")).to_have_attribute("data-colours", "green-up")
        assert direction_families(second) == GREEN_UP
    finally:
        context.close()


def test_the_admin_follows_the_traders_choice(
    page: Page, live_server: Any, transactional_db: Any, project: Project
) -> None:
    lead = UserFactory(username="lead", is_staff=True, is_superuser=True)
    project.members.add(lead)
    gaining_position(project)
    open_page(page, live_server.url, lead, project, lang="en")
    pnl = page.locator(".field-realized_pnl_shown .td-signed")

    page.goto(f"{live_server.url}/admin/orders/position/")
    expect(pnl).to_have_text("+12.40")
    expect(page.locator("html")).to_have_attribute("data-colours", "green-up")
    assert family(pnl) == "green"

    page.goto(f"{live_server.url}/live-trade?project={project.pk}")
    page.get_by_test_id("colours-select").select_option("red-up")
    expect(page.locator("html")).to_have_attribute("data-colours", "red-up")

    page.goto(f"{live_server.url}/admin/orders/position/")
    expect(pnl).to_have_text("+12.40")
    expect(page.locator("html")).to_have_attribute("data-colours", "red-up")
    assert family(pnl) == "red"
    # Readable in the admin's dark theme too: its palette changes, the convention does not.
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    assert family(pnl) == "red"
    assert colour(pnl) == (0xFF, 0x6B, 0x68)
