"""The README's screenshots, made from a real session: `make screenshots` (never collected by `make test`:
the module name does not start with test_).

Orders go through the worker to the simulator like a trader's, so the pictures show what the page really
shows: engine prices, a working limit order in the blotter, fills, realised P&L and an order's timeline; in
English (green up), on a phone, in Chinese (red up by default) and in English with red up chosen."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser, Page, expect

from execution import actions
from orders.models import OrderStatus, Project, TradeOrder
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e]

OUT = Path(os.environ.get("TRADEDESK_SCREENSHOT_DIR") or Path(django_settings.BASE_DIR) / "docs")
FILL_TIMEOUT = 30_000


def place(page: Page, symbol: str, quantity: str, *, side: str = "BUY", limit: str = "") -> None:
    """One order through the ticket, as a trader types it; returns once its row is on the page."""
    rows = page.locator("#orders-panel tr[data-source=manual]")
    before = rows.count()
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill(symbol)
    ticket.locator("#ticket-quantity").fill(quantity)
    ticket.locator("label[for=ticket-side-sell]" if side == "SELL" else "label[for=ticket-side-buy]").click()
    if limit:
        ticket.locator("#ticket-type").select_option("LMT")
        ticket.locator("#ticket-limit").fill(limit)
    else:
        ticket.locator("#ticket-type").select_option("MKT")
    ticket.get_by_test_id("place-order").click()
    expect(rows).to_have_count(before + 1)


def settle(page: Page) -> None:
    """Market orders filled, engine prices on every position, no notice left over the page."""
    expect(page.locator("#orders-panel tr[data-source=manual][data-status=NEW]")).to_have_count(
        0, timeout=FILL_TIMEOUT
    )
    prices = page.locator("#positions-panel [data-testid=position-last-price]")
    for index in range(prices.count()):
        expect(prices.nth(index)).to_have_attribute("data-source", "market", timeout=FILL_TIMEOUT)
    page.wait_for_timeout(6_000)  # notices dismiss themselves; the picture should not carry them
    expect(page.locator("#notices .notice")).to_have_count(0, timeout=FILL_TIMEOUT)


def sample(page: Page, count: int) -> None:
    """What beat's P&L sampling does through the day, once a second here, so the chart has a line."""
    for _ in range(count):
        actions.pnl_sample_all()
        page.wait_for_timeout(1_000)


@pytest.fixture
def demo(desk: Any, user: Any, project: Project, settings: Any) -> Project:
    """alpha, with bands wide enough for a resting limit far from the market."""
    settings.TRADEDESK_PRICES_INTERVAL = 1.0
    project.price_band_soft_pct = Decimal("60")
    project.price_band_hard_pct = Decimal("90")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])
    return project


def test_make_the_readme_screenshots(
    page: Page, browser: Browser, desk: Any, user: Any, demo: Project
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={demo.pk}")
    expect(page.get_by_test_id("account-positions-table")).to_be_visible()

    # Positions built through the engine (so its holdings and the ledger agree), then partly sold.
    for symbol, quantity in (("AAPL", "100"), ("MSFT", "40"), ("NVDA", "300")):
        place(page, symbol, quantity)
    settle(page)
    sample(page, 5)  # the simulator's prices walk: the sales realise some P&L, the chart gets its points
    place(page, "NVDA", "100", side="SELL")
    place(page, "MSFT", "10", side="SELL")
    place(page, "AAPL", "20")
    settle(page)
    sample(page, 5)
    place(page, "MSFT", "10", limit="300.00")  # rests: far below the market
    expect(page.locator("#orders-panel tr[data-source=manual][data-status=SUBMITTED]")).to_have_count(
        1, timeout=FILL_TIMEOUT
    )
    settle(page)
    filled = TradeOrder.objects.filter(params__source="manual", status=OrderStatus.FILLED).first()
    assert filled is not None
    page.locator(f"#order-{filled.pk} a.row-link").click()
    expect(page.locator("#order-detail")).to_contain_text(filled.symbol)
    page.screenshot(path=str(OUT / "live-trade.png"))

    for name, options in (
        ("live-trade-phone.png", {"viewport": {"width": 390, "height": 844}, "locale": "en-US"}),
        ("live-trade-zh.png", {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN"}),
    ):
        context = browser.new_context(**options)
        try:
            other = context.new_page()
            log_in(context, desk.url, user)
            other.goto(f"{desk.url}/live-trade?project={demo.pk}&order={filled.pk}")
            expect(other.get_by_test_id("account-positions-table")).to_be_visible()
            settle(other)
            other.screenshot(path=str(OUT / name))
        finally:
            context.close()

    # The other colour convention on the English page: the trader chooses red up (the zh page's default); the
    # choice is theirs, so a fresh page (drawn whole, like the two above) opens in it.
    page.get_by_test_id("colours-select").select_option("red-up")
    expect(page.locator("html")).to_have_attribute("data-colours", "red-up")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        other = context.new_page()
        log_in(context, desk.url, user)
        other.goto(f"{desk.url}/live-trade?project={demo.pk}&order={filled.pk}")
        expect(other.locator("html")).to_have_attribute("data-colours", "red-up")
        settle(other)
        other.screenshot(path=str(OUT / "live-trade-red-up.png"))
    finally:
        context.close()
