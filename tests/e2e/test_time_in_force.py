"""The live-trade page in headless Chromium with the simulator: a GTC limit from the ticket keeps working, on
screen, across a restart of the engine (the simulated broker keeps it with its time in force; the new run
reloads it and tradedesk re-homes it)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from execution import actions
from execution.engine import process as engines
from orders.models import OrderStatus, Project, TradeOrder
from tests.e2e.conftest import log_in, widen_price_bands
from tests.waiting import wait_for

pytestmark = [pytest.mark.e2e]

ENGINE_TIMEOUT = 20_000


def test_a_gtc_limit_from_the_ticket_survives_a_simulator_restart_on_screen(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    widen_price_bands(project)  # far from the market on purpose: it must keep working
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={project.pk}")
    ticket = page.get_by_test_id("order-form")
    outside = ticket.get_by_test_id("ticket-outside-rth")
    expect(outside).to_be_hidden()  # a market order cannot work outside regular hours
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("2")
    ticket.locator("#ticket-type").select_option("LMT")
    expect(outside).to_be_visible()
    ticket.locator("#ticket-limit").fill("1")  # far below AAPL's ~190: it rests
    expect(ticket.get_by_test_id("ticket-gtd")).to_be_hidden()
    ticket.get_by_test_id("ticket-tif").select_option("GTD")
    expect(ticket.get_by_test_id("ticket-gtd")).to_be_visible()
    ticket.get_by_test_id("ticket-tif").select_option("GTC")
    expect(ticket.get_by_test_id("ticket-gtd")).to_be_hidden()
    outside.check()
    ticket.locator("button[type=submit]").click()

    row = page.locator("#orders-panel tr[data-source=manual]")
    expect(row).to_have_attribute("data-status", "SUBMITTED", timeout=ENGINE_TIMEOUT)
    expect(row.get_by_test_id("order-tif")).to_have_text("GTC · ext")
    order = TradeOrder.objects.get(params__source="manual")
    assert (order.time_in_force, order.outside_rth) == ("GTC", True)
    wait_for(lambda: TradeOrder.objects.get(pk=order.pk).broker_order_id, timeout=20)
    run_1 = engines.running_engine("paper")["run_id"]  # type: ignore[index]

    # The engine restarts: the simulated broker kept the order with its time in force; the new run reloads it.
    engines.stop_engine("paper")
    engines.engine_start("paper")
    run_2 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    assert run_2 != run_1

    def rehomed() -> bool:
        actions.ingest_execution_events(mode="paper")
        current = TradeOrder.objects.get(pk=order.pk)
        return current.params["manual_execution"]["run_id"] == run_2

    wait_for(rehomed, timeout=20)
    # Still working on screen, still GTC, and its timeline says so.
    expect(row).to_have_attribute("data-status", "SUBMITTED")
    expect(row.get_by_test_id("order-tif")).to_have_text("GTC · ext")
    expect(row.get_by_test_id("order-flag")).to_have_count(0)
    row.get_by_test_id("order-created").click()
    expect(page.get_by_test_id("detail-tif")).to_contain_text(
        "GTC · Good till canceled · outside regular hours"
    )
    assert TradeOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    engines.stop_engine("paper")
