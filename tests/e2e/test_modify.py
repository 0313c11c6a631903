"""The live-trade page in headless Chromium with the simulator: a working limit order is modified inline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import AuditLog, OrderStatus, Project, TradeOrder
from tests.e2e.conftest import log_in, widen_price_bands

pytestmark = [pytest.mark.e2e]

ENGINE_TIMEOUT = 20_000


def test_a_far_limit_order_is_edited_inline_and_the_engine_confirms_the_new_price(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    widen_price_bands(project)  # far from the market on purpose: it must keep working
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={project.pk}")
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("2")
    ticket.locator("#ticket-type").select_option("LMT")
    ticket.locator("#ticket-limit").fill("1")  # far below AAPL's ~190: it stays working
    ticket.locator("button[type=submit]").click()

    row = page.locator("#orders-panel tr[data-source=manual]")
    expect(row).to_have_attribute("data-status", "SUBMITTED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-edit")).to_be_visible(timeout=ENGINE_TIMEOUT)
    row.get_by_test_id("order-edit-open").click()
    row.get_by_test_id("order-edit-limit").fill("1.5")
    row.get_by_test_id("order-edit-save").click()

    expect(row.get_by_test_id("order-type")).to_contain_text("1.50", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-update-pending")).to_have_count(0)
    expect(row).to_have_attribute("data-status", "SUBMITTED")
    order = TradeOrder.objects.get(params__source="manual")
    assert (order.limit_price, order.update_pending, order.status) == (1.5, False, OrderStatus.SUBMITTED)
    assert order.events.filter(status="UpdateSubmitted").exists()
    assert AuditLog.objects.filter(action="order_modify", order=order, channel="web").exists()
