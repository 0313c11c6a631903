"""A bracket from the ticket in headless Chromium with the simulator: the preview shows each leg, the blotter
shows the group (its children under the entry) and the take profit's fill cancels the stop loss on screen."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import BracketRole, OrderStatus, Project, TradeOrder
from tests.e2e.test_prices_and_stops import FILL_TIMEOUT, open_desk

pytestmark = [pytest.mark.e2e]


def test_a_bracket_from_the_ticket_shows_as_one_group_and_its_take_profit_cancels_the_stop_loss(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    open_desk(page, desk, user, project)
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("2")
    ticket.locator("#ticket-type").select_option("LMT")
    ticket.locator("#ticket-limit").fill("200")  # above the walk's 190: the buy limit fills at once
    # Offsets count from the limit: the take profit at 210, the stop loss at 100.
    ticket.get_by_test_id("ticket-take_profit").fill("10")
    ticket.get_by_test_id("ticket-take_profit-kind").select_option("offset")
    ticket.get_by_test_id("ticket-stop_loss").fill("100")
    preview = page.get_by_test_id("ticket-preview")
    expect(preview.get_by_test_id("preview-take_profit")).to_contain_text("210.00")
    expect(preview.get_by_test_id("preview-take_profit")).to_contain_text("+20.00")
    expect(preview.get_by_test_id("preview-stop_loss")).to_contain_text("100.00")
    expect(preview.get_by_test_id("preview-stop_loss")).to_contain_text("−200.00")
    ticket.locator("button[type=submit]").click()

    entry_row = page.locator("#orders-panel tr.bracket-entry")
    expect(entry_row).to_have_count(1)
    expect(entry_row.get_by_test_id("order-bracket")).to_be_visible()
    take_row = page.locator("#orders-panel tr.bracket-entry + tr.bracket-child")
    stop_row = page.locator("#orders-panel tr.bracket-entry + tr.bracket-child + tr.bracket-child")
    expect(take_row).to_have_attribute("data-bracket-role", BracketRole.TAKE_PROFIT)
    expect(stop_row).to_have_attribute("data-bracket-role", BracketRole.STOP_LOSS)
    expect(entry_row).to_have_attribute("data-status", "FILLED", timeout=FILL_TIMEOUT)
    expect(stop_row).to_have_attribute("data-status", "SUBMITTED", timeout=FILL_TIMEOUT)
    entry = TradeOrder.objects.get(bracket_role=BracketRole.ENTRY)
    take = TradeOrder.objects.get(parent=entry, bracket_role=BracketRole.TAKE_PROFIT)
    # The walk has to climb to 210: move the take profit down to the market through its own row's edit.
    take_row.get_by_test_id("order-edit-open").click()
    expect(take_row.get_by_test_id("order-edit-quantity")).to_have_count(0)
    take_row.get_by_test_id("order-edit-limit").fill("185")
    take_row.get_by_test_id("order-edit-save").click()
    expect(take_row).to_have_attribute("data-status", "FILLED", timeout=FILL_TIMEOUT)
    expect(stop_row).to_have_attribute("data-status", "CANCELED", timeout=FILL_TIMEOUT)
    expect(stop_row.get_by_test_id("order-status")).to_have_text("Canceled")
    stop = TradeOrder.objects.get(parent=entry, bracket_role=BracketRole.STOP_LOSS)
    assert (TradeOrder.objects.get(pk=take.pk).status, stop.status) == (
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
    )
    assert stop.status_message.startswith("one-cancels-other")
