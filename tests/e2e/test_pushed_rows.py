"""The rows a push carries, in headless Chromium on the ASGI application: an engine's answer shows on the row
while the page's own fetch of the orders partial is still unanswered, an answer older than a row pushed
meanwhile does not put the older row back, a push that covers the table spares the fetch, and one that does
not leaves the table to the fetch (also a fetch queued behind one in flight when a covering push comes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from orders.models import Project, TradeOrder
from tests.e2e.conftest import AsgiDesk, open_streaming_desk, seed_position
from tests.factories import TradeOrderFactory

pytestmark = [pytest.mark.e2e]

ORDERS_FETCH = "**/live-trade/orders?*"
PUSHES_JS = """
() => {
  window.tdPushes = [];
  document.addEventListener("td:rows-pushed", (evt) => window.tdPushes.push(evt.detail));
}
"""
SEEN_JS = """
(selector) => {
  window.tdSeen = [];
  new MutationObserver(() => {
    const row = document.querySelector(selector);
    window.tdSeen.push(row ? row.dataset.status : "gone");
  }).observe(document.getElementById("orders-panel"), {subtree: true, childList: true, attributes: true});
}
"""


def change(order: TradeOrder, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()  # its project's counter moves and the stream is told, as every change's is


def status_of(page: Page, order: TradeOrder) -> Any:
    return page.locator(f'#orders-panel tr[data-order-id="{order.pk}"]')


def test_an_engine_answer_shows_from_the_push_while_the_fetch_is_unanswered(
    page: Page, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    order = TradeOrderFactory(project=project, created_by=user, status="SUBMITTED", quantity=Decimal(5))
    open_streaming_desk(page, asgi_desk, user, project)
    page.wait_for_timeout(1000)  # the fetch the stream's first events send has been answered
    held: list[Route] = []
    page.route(ORDERS_FETCH, lambda route: held.append(route))

    change(order, status="FILLED", filled_quantity=Decimal(5), avg_fill_price=Decimal("101.5"))
    expect(status_of(page, order)).to_have_attribute("data-status", "FILLED")
    assert held, "the page did not fetch after the push"  # and that fetch has no answer yet
    expect(status_of(page, order).get_by_test_id("order-filled")).to_have_text("5 / 5")

    for route in held:
        route.continue_()
    page.unroute(ORDERS_FETCH)
    page.wait_for_timeout(500)
    expect(status_of(page, order)).to_have_attribute("data-status", "FILLED")


def test_an_older_answer_does_not_put_back_the_row_a_push_replaced(
    page: Page, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    order = TradeOrderFactory(project=project, created_by=user, status="SUBMITTED", quantity=Decimal(5))
    open_streaming_desk(page, asgi_desk, user, project)
    page.wait_for_timeout(1000)
    answers: list[tuple[Route, Any]] = []

    def hold_the_answer(route: Route) -> None:
        if answers:
            route.continue_()
            return
        answers.append((route, route.fetch()))  # the server has read the book now; the page waits

    page.route(ORDERS_FETCH, hold_the_answer)
    # A first change that needs the fetch (a new order: the push cannot place its row): the server answers
    # it with this state, and the answer is held.
    TradeOrderFactory(project=project, created_by=user, status="SUBMITTED")
    deadline = 100
    while not answers and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert answers, "the page did not fetch after the first push"

    # The fill comes by the push while the older answer is still on its way.
    change(order, status="FILLED", filled_quantity=Decimal(5), avg_fill_price=Decimal("101.5"))
    expect(status_of(page, order)).to_have_attribute("data-status", "FILLED")

    # What the row says at the end of every task that changes the table: what the page could paint.
    page.evaluate(SEEN_JS, f'#orders-panel tr[data-order-id="{order.pk}"]')
    route, older = answers[0]
    route.fulfill(response=older)  # the book as it was before the fill
    page.unroute(ORDERS_FETCH)
    page.wait_for_timeout(1500)  # that answer, then the fetch of the fill's own event
    seen = page.evaluate("() => window.tdSeen")
    assert seen, "the older answer changed nothing on the page"
    assert set(seen) == {"FILLED"}, seen
    expect(status_of(page, order).get_by_test_id("order-filled")).to_have_text("5 / 5")


def pushes(page: Page) -> int:
    return int(page.evaluate("() => window.tdPushes.length"))


def wait_for_pushes(page: Page, count: int) -> None:
    for _ in range(150):
        if pushes(page) >= count:
            page.wait_for_timeout(300)  # the orders event right after it handled too
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{pushes(page)} pushes came, not {count}")


def test_a_push_that_covers_the_table_spares_the_fetch_and_one_that_does_not_fetches(
    page: Page, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    order = TradeOrderFactory(project=project, created_by=user, status="SUBMITTED", quantity=Decimal(5))
    open_streaming_desk(page, asgi_desk, user, project)
    page.wait_for_timeout(1000)
    fetched: list[str] = []

    def note(request: Any) -> None:
        if "/live-trade/orders?" in request.url:
            fetched.append(request.url)

    page.on("request", note)
    page.evaluate(PUSHES_JS)

    # The engine's acknowledgement: only the row changes, in place.
    change(order, status_message="working at the exchange", ib_order_id=7)
    expect(status_of(page, order).locator(".msg-text")).to_have_text("working at the exchange")
    wait_for_pushes(page, 1)
    page.wait_for_timeout(700)
    assert fetched == [], fetched

    # The fill leaves the working orders (the head's Cancel all goes): the fetch brings the rest.
    change(order, status="FILLED", filled_quantity=Decimal(5), avg_fill_price=Decimal("101.5"))
    expect(status_of(page, order)).to_have_attribute("data-status", "FILLED")
    expect(page.get_by_test_id("cancel-all")).to_have_count(0)
    assert fetched, "the page did not fetch after a push that does not cover the table"


def test_a_covering_push_leaves_a_queued_fetch_in_place(
    page: Page, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    order = TradeOrderFactory(project=project, created_by=user, status="SUBMITTED")
    open_streaming_desk(page, asgi_desk, user, project)
    page.wait_for_timeout(1000)
    held: list[Route] = []
    released: list[bool] = []

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(ORDERS_FETCH, hold)
    page.evaluate(PUSHES_JS)

    TradeOrderFactory(project=project, created_by=user, status="SUBMITTED")  # its fetch is held
    wait_for_pushes(page, 1)
    later = TradeOrderFactory(project=project, created_by=user, status="SUBMITTED")  # queued behind it
    wait_for_pushes(page, 2)
    change(order, status_message="working at the exchange")  # covers the table; the queued fetch stays
    wait_for_pushes(page, 3)
    expect(status_of(page, order).locator(".msg-text")).to_have_text("working at the exchange")

    assert len(held) == 1  # the rest waits behind it in the page
    released.append(True)
    held[0].continue_()
    expect(status_of(page, later)).to_have_count(1)
    expect(status_of(page, order).locator(".msg-text")).to_have_text("working at the exchange")


def test_an_order_placed_on_the_page_fetches_only_for_its_fill(
    page: Page, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    open_streaming_desk(page, asgi_desk, user, project)
    row = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    row.locator("input[name=quantity]").fill("2")
    filled = page.locator("#orders-panel tr[data-source=manual][data-status=FILLED]")
    row.get_by_test_id("row-buy").click()  # the engine starts (its state and account move too)
    expect(filled).to_have_count(1, timeout=30_000)
    page.wait_for_timeout(1500)
    fetched: list[str] = []

    def note(request: Any) -> None:
        if "/live-trade/orders?" in request.url:
            fetched.append(request.url)

    page.on("request", note)
    row.get_by_test_id("row-buy").click()
    # The new row comes with the POST's own answer (its push only says the table moved), the engine's
    # acknowledgement by its push; the fill moves the positions, which its fetch brings.
    expect(filled).to_have_count(2, timeout=30_000)
    page.wait_for_timeout(1000)
    assert len(fetched) == 1, fetched
    expect(row).to_contain_text("14")
