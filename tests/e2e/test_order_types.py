"""A trailing stop, a market on close and a limit if touched from the ticket in headless Chromium with the
simulator, each to the state its type takes it: the trailing stop works at its stop and fills once its trail is
tightened in the row's edit, the limit if touched rests until its trigger is moved to the market and then fills at
its limit or better, the market on close waits for the close and fills at it (the simulator's clock)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from execution import actions
from execution.engine import process as engines
from orders.models import OrderStatus, Project, TradeOrder
from tests.e2e.conftest import open_desk, widen_price_bands
from tests.waiting import wait_for

pytestmark = [pytest.mark.e2e]

ENGINE_TIMEOUT = 20_000
# A Monday in New York (EST): 15:00, before the market on close cut-off of 15:44:30; then the close at 16:00.
BEFORE_CUTOFF = "2026-12-07T20:00:00Z"
AT_CLOSE = "2026-12-07T21:00:00Z"


def place(page: Page, order_type: str, **fields: str) -> Locator:
    """BUY 2 AAPL of `order_type` from the ticket, the given fields filled (by their input's id); its row."""
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("2")
    ticket.locator("#ticket-type").select_option(order_type)
    for field, value in fields.items():
        ticket.locator(f"#ticket-{field}").fill(value)
    ticket.locator("button[type=submit]").click()
    return page.locator("#orders-panel tr[data-source=manual]")


def edit(row: Locator, field: str, value: str) -> None:
    """Send one new value through the row's inline edit."""
    expect(row.get_by_test_id("order-edit")).to_be_visible(timeout=ENGINE_TIMEOUT)
    row.get_by_test_id("order-edit-open").click()
    row.get_by_test_id(f"order-edit-{field}").fill(value)
    row.get_by_test_id("order-edit-save").click()


def test_a_trailing_stop_works_at_its_stop_and_fills_once_its_trail_is_tightened_on_screen(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    widen_price_bands(project)
    open_desk(page, desk, user, project)
    row = place(page, "TRAIL", trailing="50")  # a buy stop 50 above the walk's ~190: it works, far off

    expect(row).to_have_attribute("data-status", "SUBMITTED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-trail")).to_have_text("trail 50.00")
    order = TradeOrder.objects.get(params__source="manual")
    wait_for(lambda: TradeOrder.objects.get(pk=order.pk).stop_price, timeout=20)  # the engine's current stop
    assert TradeOrder.objects.get(pk=order.pk).stop_price > 200  # type: ignore[operator]
    expect(row.get_by_test_id("order-edit-stop")).to_have_count(0)  # the stop is the engine's

    edit(row, "trail", "0.01")  # the stop follows the market to a cent above it, then the market reaches it

    expect(row).to_have_attribute("data-status", "FILLED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-trail")).to_have_text("trail 0.01")
    filled = TradeOrder.objects.get(pk=order.pk)
    assert (filled.trailing_amount, filled.filled_quantity, filled.update_pending) == (
        Decimal("0.01"),
        2,
        False,
    )
    assert filled.events.filter(status="UpdateSubmitted").exists()


def test_a_limit_if_touched_rests_until_its_trigger_is_moved_to_the_market_then_fills_on_screen(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    widen_price_bands(project)
    open_desk(page, desk, user, project)
    # A buy is touched at or below its trigger: 10 is far below the walk's ~190; its limit of 300 above it.
    row = place(page, "LIT", trigger="10", limit="300")

    expect(row).to_have_attribute("data-status", "SUBMITTED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-trigger")).to_have_text("if touched 10.00")
    expect(row.get_by_test_id("order-type")).to_contain_text("@ 300.00")

    edit(row, "trigger", "299")  # the market is below it now: touched, and the limit of 300 fills at once

    expect(row).to_have_attribute("data-status", "FILLED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-trigger")).to_have_text("if touched 299.00")
    filled = TradeOrder.objects.get(params__source="manual")
    assert (filled.trigger_price, filled.filled_quantity) == (299, 2)
    assert filled.avg_fill_price is not None and filled.avg_fill_price <= 300


def test_a_market_on_close_waits_for_the_close_and_fills_at_it_on_screen(
    page: Page, desk: Any, user: Any, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = BEFORE_CUTOFF  # the simulator's market-hours clock, and the place door's
    open_desk(page, desk, user, project)
    row = place(page, "MOC")

    expect(row).to_have_attribute("data-status", "SUBMITTED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-type")).to_contain_text("MOC")
    order = TradeOrder.objects.get(params__source="manual")
    assert order.time_in_force == "DAY"
    wait_for(lambda: TradeOrder.objects.get(pk=order.pk).broker_order_id, timeout=20)
    assert TradeOrder.objects.get(pk=order.pk).filled_quantity == 0  # 15:00: it waits for 16:00

    # The close comes: the engine runs again at 16:00; the simulated broker kept the order, the new run fills it.
    engines.stop_engine("paper")
    settings.TRADEDESK_SIM_CLOCK = AT_CLOSE
    engines.engine_start("paper")

    def filled() -> bool:
        actions.ingest_execution_events(mode="paper")
        return TradeOrder.objects.get(pk=order.pk).status == OrderStatus.FILLED

    wait_for(filled, timeout=20)
    expect(row).to_have_attribute("data-status", "FILLED", timeout=ENGINE_TIMEOUT)
    assert TradeOrder.objects.get(pk=order.pk).filled_quantity == 2
    engines.stop_engine("paper")
