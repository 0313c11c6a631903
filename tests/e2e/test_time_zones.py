"""Times on the page in headless Chromium: the trader picks a zone, the order table names it in its time
columns' headers and shows local times with the UTC time in the tooltip, and rows the polls bring later use
it too."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import Project, TradeOrder
from tests.e2e.conftest import SCREENSHOTS, log_in, seed_position

pytestmark = [pytest.mark.e2e]


def shown(order: TradeOrder, zone: str) -> tuple[str, str, str]:
    """What the row's creation time should read: local time, the UTC tooltip, the datetime attribute."""
    local = order.created_at.astimezone(zoneinfo.ZoneInfo(zone))
    utc = order.created_at.astimezone(UTC)
    iso = utc.isoformat().replace("+00:00", "Z")
    return f"{local:%H:%M:%S}", f"{utc:%Y-%m-%d %H:%M:%S} UTC", iso


def zone_now(zone: str) -> str:
    """The zone's abbreviation now, as the time columns' headers name it."""
    return datetime.now(zoneinfo.ZoneInfo(zone)).tzname() or zone


def created_time(page: Page, symbol: str) -> Any:
    return page.locator(
        f"#orders-panel tr.order-row:has(td.sym:text-is('{symbol}')) [data-testid=order-created] time"
    )


def test_the_order_row_shows_the_chosen_zone_and_utc_in_its_tooltip(
    page: Page, live_server: Any, transactional_db: Any, user: Any, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_TIME_ZONE = "America/New_York"
    seed_position(project, "AAPL", 10, "189.20")
    aapl = TradeOrder.objects.get(symbol="AAPL")
    log_in(page.context, live_server.url, user)
    page.goto(f"{live_server.url}/live-trade?project={project.pk}")

    text, tooltip, iso = shown(aapl, "America/New_York")
    head = page.get_by_test_id("orders-created-head")
    expect(head).to_contain_text(zone_now("America/New_York"))
    expect(created_time(page, "AAPL")).to_have_text(text)
    expect(created_time(page, "AAPL")).to_have_attribute("title", tooltip)

    page.get_by_test_id("time-zone-select").select_option("Asia/Tokyo")
    expect(page.get_by_test_id("time-zone-select")).to_have_value("Asia/Tokyo")
    text, tooltip, iso = shown(aapl, "Asia/Tokyo")
    expect(head).to_contain_text("JST")
    expect(created_time(page, "AAPL")).to_have_text(text)
    expect(created_time(page, "AAPL")).to_have_attribute("title", tooltip)
    expect(created_time(page, "AAPL")).to_have_attribute("datetime", iso)

    # A row the one-second poll brings later is rendered in the same zone.
    seed_position(project, "MSFT", 5, "410.00")
    msft = TradeOrder.objects.get(symbol="MSFT")
    expect(created_time(page, "MSFT")).to_have_text(shown(msft, "Asia/Tokyo")[0])
    updated = page.locator(
        "#orders-panel tr.order-row:has(td.sym:text-is('MSFT')) [data-testid=order-updated] time"
    )
    expect(updated).to_have_attribute("title", re.compile(r" UTC$"))
    expect(head).to_contain_text("JST")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "time-zone.png"))

    # The choice is the user's: a new session opens in Tokyo time too.
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        second = other.new_page()
        log_in(other, live_server.url, user)
        second.goto(f"{live_server.url}/live-trade?project={project.pk}")
        expect(created_time(second, "AAPL")).to_have_text(text)
    finally:
        other.close()
