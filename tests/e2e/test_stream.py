"""The push stream in headless Chromium, on the ASGI application under uvicorn (as `make run` and the stream
process serve it) with the ingest watcher running: a change reaches a second browser context through the
stream while that page sends no poll, and when the stream is cut the page says "reconnecting" and polls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from orders.models import Project
from orders.services import create_trade_order
from tests.e2e.conftest import AsgiDesk, open_streaming_desk, seed_position
from tradedesk.web import stream

pytestmark = [pytest.mark.e2e]


def polls(page: Page) -> list[str]:
    """Every poll request the page sends from now on (the orders and prices partials)."""
    sent: list[str] = []
    page.on(
        "request",
        lambda request: sent.append(request.url) if "/live-trade/orders?" in request.url else None,
    )
    return sent


def timer_polls(page: Page) -> None:
    """Count, from now on, the poll requests a timer's tick sends (no triggering event: not a stream event's
    fetch) in window.tdTimerPolls."""
    page.evaluate(
        """() => {
              window.tdTimerPolls = 0;
              document.addEventListener("htmx:beforeRequest", (evt) => {
                const config = evt.detail.requestConfig;
                if (evt.detail.elt.hasAttribute("data-td-poll") && !(config && config.triggeringEvent)) {
                  window.tdTimerPolls += 1;
                }
              });
            }"""
    )


def tick_count(page: Page) -> int:
    """The poll requests timer ticks sent since timer_polls."""
    return int(page.evaluate("() => window.tdTimerPolls"))


def test_a_change_reaches_a_second_browser_context_through_the_stream(
    browser: Browser, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    first, second = browser.new_context(), browser.new_context()
    try:
        clicker, watcher = first.new_page(), second.new_page()
        open_streaming_desk(clicker, asgi_desk, user, project)
        open_streaming_desk(watcher, asgi_desk, user, project)
        sent = polls(watcher)
        # The stream's first events (sent on every connect, so nothing between the render and the connect is
        # missed) fetch once; after them an idle page sends no poll (its 1 s timer finds the stream up).
        watcher.wait_for_timeout(1000)
        sent.clear()
        watcher.wait_for_timeout(2500)
        assert sent == []

        row = clicker.get_by_test_id("account-positions-table").locator("tbody tr").first
        row.locator("input[name=quantity]").fill("2")
        row.get_by_test_id("row-buy").click()
        # The other trader's screen shows the fill: fetched because the stream said the orders changed.
        filled = watcher.locator("#orders-panel tr[data-source=manual][data-status=FILLED]")
        expect(filled).to_have_count(1, timeout=30_000)
        assert sent, "the change came without a fetch of the orders partial"
        expect(watcher.get_by_test_id("conn-lost")).to_be_hidden()
    finally:
        first.close()
        second.close()


def test_a_cut_stream_says_reconnecting_and_the_page_polls_until_it_is_back(
    page: Page, asgi_desk: AsgiDesk, user: Any, project: Project
) -> None:
    open_streaming_desk(page, asgi_desk, user, project)
    sent = polls(page)
    timer_polls(page)

    # Cut: new connections refused, and the server ends the open stream (as a deploy does).
    page.route("**/live-trade/stream?*", lambda route: route.abort())
    asyncio.run_coroutine_threadsafe(_end_streams(), asgi_desk.loop).result(10)  # type: ignore[arg-type]
    expect(page.get_by_test_id("conn-lost")).to_be_visible()
    expect(page.get_by_test_id("conn-lost")).to_contain_text("reconnecting")
    expect(page.get_by_test_id("not-live")).to_be_visible()

    # Meanwhile the page polls, so a change still shows.
    create_trade_order({"symbol": "MSFT", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user)
    expect(page.locator("#orders-panel tr[data-source=manual]")).to_have_count(1)
    assert sent
    assert tick_count(page) > 0

    # The stream comes back: the banner goes and the poll timers send nothing. The order is still moving
    # through its states (the worker and the simulator), so stream events still fetch: count timer ticks.
    page.unroute("**/live-trade/stream?*")
    expect(page.locator("html[data-stream=open]")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("conn-lost")).to_be_hidden()
    ticks = tick_count(page)
    page.wait_for_timeout(2500)
    assert tick_count(page) == ticks


async def _end_streams() -> None:
    """End every open stream of the server's loop (what the stream's own lifetime limit does)."""
    stream.STREAM_MAX_SECONDS = 0.0
    try:
        stream.hub().wake(None)
        await asyncio.sleep(0.5)
    finally:
        stream.STREAM_MAX_SECONDS = 300.0
