"""The account header, the P&L chart and the ticket's quotes in headless Chromium with the simulator: cash,
buying power and net liquidation change after a fill; the chart renders and moves with the prices (also in
zh-hans on a 390 px phone); a symbol no position holds gets a bid × ask once typed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from execution import actions
from execution.engine import process as engines
from orders.models import Project
from tests.e2e.conftest import open_desk, seed_position
from tests.waiting import wait_for

pytestmark = [pytest.mark.e2e]

WAIT = 20_000


@pytest.fixture
def engine(desk: Any, settings: Any) -> Any:
    """The paper simulator running before the page opens (make run's desk_engine does this), prices every 1 s."""
    settings.TRADEDESK_PRICES_INTERVAL = 1.0
    engines.engine_start("paper")
    assert wait_for(lambda: engines.engine_folder("paper").account_snapshot.exists(), timeout=15)
    return desk


def test_the_header_shows_cash_buying_power_and_net_liquidation_that_change_after_a_fill(
    page: Page, engine: Any, user: Any, project: Project
) -> None:
    open_desk(page, engine, user, project)
    strip = page.get_by_test_id("account-strip")
    expect(strip.get_by_test_id("account-label")).to_contain_text("IB paper account")
    cash = strip.get_by_test_id("account-cash").locator("strong")
    power = strip.get_by_test_id("account-buying-power").locator("strong")
    net = strip.get_by_test_id("account-net-liquidation").locator("strong")
    expect(cash).to_have_text("100,000.00", timeout=WAIT)
    expect(power).to_have_text("100,000.00")
    expect(net).to_have_text("100,000.00")

    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("10")
    ticket.locator("button[type=submit]").click()
    expect(page.locator("#orders-panel tr[data-source=manual][data-status=FILLED]")).to_have_count(
        1, timeout=WAIT
    )

    expect(cash).not_to_have_text("100,000.00", timeout=WAIT)  # about 1,900 paid and a 1.00 fee
    expect(power).not_to_have_text("100,000.00")  # half the position's value is margin
    expect(net).not_to_have_text("100,000.00", timeout=WAIT)  # the fee at least
    assert float(cash.inner_text().replace(",", "")) < 98_200


def test_the_pnl_chart_renders_and_moves_with_the_prices(
    page: Page, engine: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "150")
    actions.pnl_sample_all()
    open_desk(page, engine, user, project)
    chart = page.get_by_test_id("pnl-chart")
    expect(chart.get_by_test_id("pnl-line")).to_be_visible()
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("1")
    ticket.locator("button[type=submit]").click()  # the engine now holds AAPL and prices it every second
    now = chart.get_by_test_id("pnl-now")
    expect(page.locator("#positions-panel tr[data-symbol=AAPL] [data-source=market]")).to_have_count(
        1, timeout=WAIT
    )
    first = now.inner_text()
    expect(now).not_to_have_text(first, timeout=WAIT)
    expect(
        page.locator("#positions-panel tr[data-symbol=AAPL]").get_by_test_id("position-sparkline")
    ).to_be_visible()
    # The line sits under the symbol: the symbol itself is never cut to an ellipsis by it.
    symbol = page.locator("#positions-panel tr[data-symbol=AAPL] td.sym")
    assert symbol.evaluate("cell => cell.scrollWidth <= cell.clientWidth")


def test_the_chart_reads_in_chinese_on_a_phone(page: Page, engine: Any, user: Any, project: Project) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    seed_position(project, "AAPL", 10, "150")
    actions.pnl_sample_all()
    open_desk(page, engine, user, project, lang="zh-hans")
    chart = page.get_by_test_id("pnl-chart")
    expect(chart).to_contain_text("今日盈亏（已实现 + 未实现）")
    expect(page.get_by_test_id("account-strip")).to_contain_text("IB 模拟账户")
    box = chart.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_a_typed_symbol_no_position_holds_gets_bid_and_ask(
    page: Page, engine: Any, user: Any, project: Project
) -> None:
    open_desk(page, engine, user, project)
    ticket = page.get_by_test_id("order-form")
    ticket.locator("#ticket-symbol").press_sequentially("AMD", delay=50)
    quote = ticket.get_by_test_id("ticket-bid-ask")
    expect(quote).to_be_visible(timeout=WAIT)
    expect(quote).to_have_attribute("data-symbol", "AMD")
    bid = float(quote.get_by_test_id("ticket-bid").inner_text().replace(",", ""))
    ask = float(quote.get_by_test_id("ticket-ask").inner_text().replace(",", ""))
    assert 0 < bid < ask
