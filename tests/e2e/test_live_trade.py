"""The live-trade page in headless Chromium: orders go through the real worker to the simulator and back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import OrderStatus, Position, Project, TradeOrder
from tests.e2e.conftest import SCREENSHOTS, open_desk, seed_position
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.e2e]

FILL_TIMEOUT = 20_000


@pytest.fixture
def browser_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of the page (a CSP violation is a console error)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def manual_orders() -> list[TradeOrder]:
    return list(TradeOrder.objects.filter(params__source="manual").order_by("id"))


def test_buy_then_sell_from_a_position_row_both_fill_on_screen(
    page: Page, desk: Any, user: Any, project: Project, browser_errors: list[str]
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    seed_position(project, "MSFT", 5, "410.45")
    open_desk(page, desk, user, project)

    first_row = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    expect(first_row).to_have_attribute("data-symbol", "AAPL")
    first_row.locator("input[name=quantity]").fill("1")
    first_row.get_by_test_id("row-buy").click()
    expect(page.locator("#orders-panel tr[data-source=manual]")).to_have_count(1)
    first_row.get_by_test_id("row-sell").click()

    orders = page.get_by_test_id("orders-table")
    expect(orders.locator("tr[data-source=manual]")).to_have_count(2)
    expect(orders.locator("tr[data-source=manual][data-status=FILLED]")).to_have_count(
        2, timeout=FILL_TIMEOUT
    )

    placed = manual_orders()
    assert [(o.side, o.quantity, o.status) for o in placed] == [
        ("BUY", 1, OrderStatus.FILLED),
        ("SELL", 1, OrderStatus.FILLED),
    ]
    assert all(o.params["project_id"] == project.pk and o.params["mode"] == "paper" for o in placed)
    for order in placed:
        row = page.locator(f"#order-{order.pk}")
        expect(row.get_by_test_id("order-filled")).to_have_text("1 / 1")
        expect(row.get_by_test_id("order-status")).to_have_text("Filled")
    expect(page.locator("#notices .notice-success").first).to_be_visible()
    expect(first_row.get_by_test_id("position-quantity")).to_have_text("10")

    # The timeline of the last order, then the screenshot for the README.
    page.locator(f"#order-{placed[-1].pk}").click()
    expect(page.locator(f"#timeline-{placed[-1].pk}")).to_be_visible()
    expect(page.locator(f"#order-{placed[-1].pk}.selected")).to_have_count(1)
    page.evaluate(  # keep the fill notices in the picture, drop the "Order placed" ones
        """document.querySelectorAll("#notices .notice").forEach(
            (n) => n.textContent.includes("Order placed") && n.remove())"""
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "live-trade.png"))
    assert browser_errors == []


def confirm_dialog(page: Page) -> None:
    """Accept the confirmation dialog."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#confirm-ok").click()
    expect(dialog).to_be_hidden()


def test_close_one_position_then_liquidate_all_goes_flat_on_screen(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    for symbol, quantity, price in (("AAPL", 10, "189.20"), ("MSFT", 5, "410.45"), ("NVDA", 8, "131.10")):
        seed_position(project, symbol, quantity, price)
    open_desk(page, desk, user, project)
    table = page.get_by_test_id("account-positions-table")

    # Dismissing the dialog sends nothing.
    table.locator("tr[data-symbol=MSFT]").get_by_test_id("row-close").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#confirm-dialog")).to_be_hidden()

    table.locator("tr[data-symbol=AAPL]").get_by_test_id("row-close").click()
    confirm_dialog(page)
    expect(table.locator("tr[data-symbol=AAPL]")).to_have_count(0, timeout=FILL_TIMEOUT)
    expect(table.locator("tr[data-symbol]")).to_have_count(2)
    closing = manual_orders()
    assert [(o.symbol, o.side, o.quantity) for o in closing] == [("AAPL", "SELL", 10)]

    page.get_by_test_id("liquidate-all").click()
    confirm_dialog(page)
    expect(table.locator("tr[data-symbol]")).to_have_count(0, timeout=FILL_TIMEOUT)
    expect(table.locator(".empty-row")).to_be_visible()
    expect(page.locator("#orders-panel tr[data-source=manual][data-status=FILLED]")).to_have_count(3)
    assert {p.symbol: p.quantity for p in Position.objects.filter(project=project)} == {
        "AAPL": 0,
        "MSFT": 0,
        "NVDA": 0,
    }
    assert sorted((o.symbol, o.side, o.quantity) for o in manual_orders()) == [
        ("AAPL", "SELL", 10),
        ("MSFT", "SELL", 5),
        ("NVDA", "SELL", 8),
    ]


def test_bad_quantities_show_inline_errors_and_create_no_order(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    open_desk(page, desk, user, project)
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    quantity = ticket.locator("#ticket-quantity")
    error = page.get_by_test_id("error-quantity")
    cases = [
        ("0", "must be greater than 0"),
        ("-1", "must be greater than 0"),
        ("abc", "required"),  # Chromium keeps letters out of a number input: the server gets nothing
        ("1000001", "must be at most 1,000,000"),
    ]
    for typed, reason in cases:
        quantity.fill("")
        quantity.press_sequentially(typed)
        with page.expect_response(lambda r: r.url.endswith("/live-trade/orders/new")) as answer:
            ticket.locator("button[type=submit]").click()
        assert answer.value.status == 422
        expect(error).to_contain_text(reason)
        expect(quantity).to_have_attribute("aria-invalid", "true")
        if typed != "abc":
            expect(quantity).to_have_value(typed)

    # A limit order without a price.
    quantity.fill("1")
    ticket.locator("#ticket-type").select_option("LMT")
    expect(ticket.locator("#ticket-limit")).to_be_visible()
    ticket.locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-limit_price")).to_contain_text("required for a limit order")

    # The positions row shows its own error next to its quantity.
    first_row = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    first_row.locator("input[name=quantity]").fill("0")
    first_row.get_by_test_id("row-buy").click()
    expect(first_row.get_by_test_id("row-error")).to_contain_text("must be greater than 0")
    expect(first_row.locator("input[name=quantity]")).to_have_value("0")

    assert manual_orders() == []
    expect(page.locator("#orders-panel tr[data-source=manual]")).to_have_count(0)


def test_anonymous_is_sent_to_login_and_a_second_user_cannot_see_the_first_users_project(
    page: Page, desk: Any, project: Project
) -> None:
    page.goto(f"{desk.url}/live-trade")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/live-trade$"))
    expect(page.get_by_role("heading", name="Sign in to the desk")).to_be_visible()

    bob = UserFactory(username="bob")
    bravo = ProjectFactory(name="bravo", members=[bob])
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/live-trade\?project={bravo.pk}$"))
    expect(page.locator("#project-select option")).to_have_count(1)
    expect(page.locator("#project-select")).to_contain_text("bravo")
    expect(page.locator("#project-select")).not_to_contain_text("alpha")

    response = page.goto(f"{desk.url}/live-trade?project={project.pk}")
    assert response is not None and response.status == 404
    poll = page.request.get(
        f"{desk.url}/live-trade/orders?project={project.pk}", headers={"HX-Request": "true"}
    )
    assert poll.status == 404
