"""The live-trade page in headless Chromium with the simulator: engine prices move on screen, a stop order fills."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import OrderStatus, Project, TradeOrder
from tests.e2e.conftest import open_desk, seed_position

pytestmark = [pytest.mark.e2e]

FILL_TIMEOUT = 20_000


def test_engine_prices_replace_the_last_fill_and_move_on_screen(
    page: Page, desk: Any, user: Any, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_PRICES_INTERVAL = 1.0
    seed_position(project, "AAPL", 10, "150")
    open_desk(page, desk, user, project)
    row = page.locator("#positions-panel tr[data-symbol=AAPL]")
    last = row.get_by_test_id("position-last-price")
    expect(last).to_have_attribute("data-source", "last_fill")
    expect(last).to_contain_text("150.00")

    # One share through the ticket starts the simulator; it then publishes AAPL's price every second.
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("1")
    ticket.locator("button[type=submit]").click()
    expect(page.locator("#orders-panel tr[data-source=manual][data-status=FILLED]")).to_have_count(
        1, timeout=FILL_TIMEOUT
    )

    expect(last).to_have_attribute("data-source", "market", timeout=FILL_TIMEOUT)
    expect(last).to_have_attribute("data-stale", "false")
    first_price = last.inner_text()
    expect(last).not_to_have_text(first_price, timeout=FILL_TIMEOUT)
    market_value = row.get_by_test_id("position-market-value").inner_text()
    assert market_value not in ("—", "")
    expect(row.get_by_test_id("position-pnl")).not_to_have_text("—")


def test_a_stop_order_from_the_ticket_triggers_and_fills(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    open_desk(page, desk, user, project)
    ticket = page.get_by_test_id("order-form")
    expect(ticket.locator("#ticket-stop")).to_be_hidden()
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("2")
    ticket.locator("#ticket-type").select_option("STP")
    expect(ticket.locator("#ticket-stop")).to_be_visible()
    expect(ticket.locator("#ticket-limit")).to_be_hidden()
    ticket.locator("#ticket-stop").fill("100")  # a buy stop below AAPL's ~190: triggered at once
    ticket.locator("button[type=submit]").click()

    row = page.locator("#orders-panel tr[data-source=manual]")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("order-type")).to_contain_text("STP")
    expect(row.get_by_test_id("order-type")).to_contain_text("100.00")
    expect(row).to_have_attribute("data-status", "FILLED", timeout=FILL_TIMEOUT)
    order = TradeOrder.objects.get(params__source="manual")
    assert (order.order_type, order.stop_price, order.status) == ("STP", 100, OrderStatus.FILLED)
    assert order.avg_fill_price is not None and order.avg_fill_price > 100

    ticket.locator("#ticket-type").select_option("STP LMT")
    expect(ticket.locator("#ticket-stop")).to_be_visible()
    expect(ticket.locator("#ticket-limit")).to_be_visible()
