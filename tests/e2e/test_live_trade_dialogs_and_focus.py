"""Trader UX in headless Chromium, second round: Cancel all, the duplicate guard's box, focus, the zh-hans
timeline and the remembered project."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from orders.models import ExecutionEvent, OrderStatus, Project, TradeOrder
from orders.services import update_trade_order_status
from tests.e2e.conftest import log_in, seed_position, widen_price_bands
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = [pytest.mark.e2e]

ENGINE_TIMEOUT = 30_000


def place_far_limit(page: Page) -> None:
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("2")
    ticket.locator("#ticket-type").select_option("LMT")
    ticket.locator("#ticket-limit").fill("1")  # far below AAPL's ~190: it stays working
    ticket.locator("button[type=submit]").click()


def test_cancel_all_cancels_a_working_order_at_the_engine(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    widen_price_bands(project)
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={project.pk}")
    place_far_limit(page)

    working = page.locator("#orders-panel tr[data-source=manual]")
    expect(working.first).to_have_attribute("data-status", "SUBMITTED", timeout=ENGINE_TIMEOUT)
    page.get_by_test_id("cancel-all").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-ok").click()

    expect(working.first).to_have_attribute("data-status", "CANCELED", timeout=ENGINE_TIMEOUT)
    order = TradeOrder.objects.get(params__source="manual")
    assert order.status == OrderStatus.CANCELED


def test_place_anyway_of_a_row_survives_the_refreshes_and_sends_the_duplicate(
    page: Page, desk: Any, user: Any, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 600
    seed_position(project, "AAPL", 10, "189.20")
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={project.pk}")
    row = page.locator("#positions-panel tr[data-symbol=AAPL]")
    row.locator(".qty-input").fill("1")
    row.get_by_test_id("row-buy").click()
    expect(page.locator("#orders-panel tr[data-source=manual]")).to_have_count(1)
    row.get_by_test_id("row-buy").click()
    confirm = row.get_by_test_id("row-confirm").locator("input")
    expect(confirm).to_be_visible()
    confirm.check()

    # A new position re-renders the whole table; then a few more one-second polls.
    seed_position(project, "MSFT", 5, "410.00")
    expect(page.locator("#positions-panel tr[data-symbol=MSFT]")).to_be_visible()
    page.wait_for_timeout(3_000)
    expect(confirm).to_be_checked()

    row.get_by_test_id("row-buy").click()
    expect(page.locator("#orders-panel tr[data-source=manual]")).to_have_count(2)
    expect(row.get_by_test_id("row-confirm")).to_have_count(0)
    assert TradeOrder.objects.filter(params__source="manual", symbol="AAPL", side="BUY").count() == 2


def test_focus_returns_to_place_order_and_the_ticket_comes_before_the_tables_in_tab_order(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={project.pk}")
    ticket_first = page.evaluate(
        "document.getElementById('ticket-symbol').compareDocumentPosition("
        "document.querySelector('[data-testid=row-buy]')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert ticket_first

    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("1")
    page.get_by_test_id("place-order").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#orders-panel tr[data-source=manual]")).to_have_count(1)
    expect(page.get_by_test_id("place-order")).to_be_focused()


def test_focus_returns_to_cancel_all_after_its_confirm_dialog(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    widen_price_bands(project)
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={project.pk}")
    place_far_limit(page)
    place_far_limit(page)  # a new idempotency key each time: two working orders
    expect(page.locator("#orders-panel tr[data-status=SUBMITTED]")).to_have_count(2, timeout=ENGINE_TIMEOUT)
    page.get_by_test_id("cancel-all").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-ok").click()
    expect(page.locator("#confirm-dialog")).to_be_hidden()
    expect(page.get_by_test_id("cancel-all")).to_be_focused()
    # The cancel-all request has been answered before the test's database is flushed under the live server.
    expect(page.locator("#orders-panel tr[data-status=SUBMITTED]")).to_have_count(0, timeout=ENGINE_TIMEOUT)


ENGLISH_STATUS_WORDS = (
    "Submitted",
    "SUBMITTED",
    "Canceled",
    "CANCEL_PENDING",
    "CancelPending",
    "CancelOrderCommand",
    "manual",
    "seeded",
    "Filled",
)


def test_the_zh_hans_timeline_shows_no_english_status_names(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    position = seed_position(project, "AAPL", 10, "189.20")
    seeded = TradeOrder.objects.get(symbol=position.symbol, params__source="seed")
    order = TradeOrderFactory(
        project=project, params={"source": "manual", "project_id": project.pk, "mode": project.mode}
    )
    update_trade_order_status(order, OrderStatus.SUBMITTED, message="")
    update_trade_order_status(order, OrderStatus.CANCEL_PENDING, message="cancel requested")
    now = timezone.now()
    for status, message in (("CancelPending", ""), ("Canceled", "Canceled by CancelOrderCommand")):
        ExecutionEvent.objects.create(
            event_key=f"{order.pk}-{status}", order=order, tag=order.client_order_id, status=status,
            event_time=now, message=message, payload={}, outcome="applied", received_at=now,
        )  # fmt: skip
    log_in(page.context, desk.url, user)
    for shown in (seeded, order):
        page.goto(f"{desk.url}/live-trade?project={project.pk}&order={shown.pk}&lang=zh-hans")
        timeline = page.locator(f"#timeline-{shown.pk}")
        expect(timeline.locator(".event").first).to_be_visible()
        text = timeline.inner_text()
        assert not [word for word in ENGLISH_STATUS_WORDS if word in text], text


def test_the_project_picked_last_opens_in_a_new_session_and_is_named_in_ticket_and_dialog(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    second = ProjectFactory(name="beta", members=[user])
    seed_position(
        project, "AAPL", 10, "189.20"
    )  # the page would otherwise prefer the project holding positions
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/live-trade?project={second.pk}")
    expect(page.get_by_test_id("ticket-project")).to_have_text("beta")

    fresh = page.context.browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        other = fresh.new_page()
        log_in(fresh, desk.url, user)
        other.goto(f"{desk.url}/live-trade")
        expect(other).to_have_url(re.compile(rf"project={second.pk}"))
        expect(other.get_by_test_id("ticket-project")).to_have_text("beta")
        expect(other.get_by_test_id("confirm-project")).to_contain_text("beta", use_inner_text=False)
    finally:
        fresh.close()
