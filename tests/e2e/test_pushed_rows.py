"""The rows a push carries, in headless Chromium on the ASGI application: an engine's answer shows on the row
while the page's own fetch of the orders partial is still unanswered, and an answer older than a row pushed
meanwhile does not put the older row back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from orders.models import Project, TradeOrder
from tests.e2e.conftest import AsgiDesk, open_streaming_desk
from tests.factories import TradeOrderFactory

pytestmark = [pytest.mark.e2e]

ORDERS_FETCH = "**/live-trade/orders?*"
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
    # A first change: its push's fetch is answered by the server with this state, and held.
    change(order, status_message="working at the exchange")
    expect(status_of(page, order).locator(".msg-text")).to_have_text("working at the exchange")
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
