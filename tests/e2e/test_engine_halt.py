"""The engine-wide halt and realised P&L in headless Chromium: staff halt the paper engine from the page,
traders see what is halted and why; the positions table shows realised P&L and totals after real fills."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import AuditLog, EngineHalt, Position, Project, TradeOrder
from orders.services import Actor, engine_halt_set
from tests.e2e.conftest import open_desk, seed_position
from tests.factories import UserFactory
from tradedesk.web.templatetags.desk import money

pytestmark = [pytest.mark.e2e]

FILL_TIMEOUT = 20_000


@pytest.fixture
def staff(project: Project) -> Any:
    lead = UserFactory(username="desk-lead", is_staff=True)
    project.members.add(lead)
    return lead


def test_staff_halt_the_paper_engine_and_buy_is_disabled_with_the_reason_while_close_stays(
    page: Page, desk: Any, staff: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    open_desk(page, desk, staff, project)
    page.get_by_test_id("engine-halt").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-title")).to_have_text("Halt the PAPER engine")
    expect(dialog.get_by_test_id("confirm-scope")).to_have_text("PAPER engine: all projects")
    expect(dialog.locator("#confirm-ok")).to_be_disabled()  # no reason yet
    dialog.locator("#confirm-reason").fill("IB gateway restarting")
    dialog.locator("#confirm-ok").click()

    notice = page.get_by_test_id("halt-notice")
    expect(notice).to_contain_text("The PAPER engine is halted for all projects by desk-lead")
    expect(notice).to_contain_text("IB gateway restarting")
    halt = EngineHalt.objects.get(mode="paper")
    assert (halt.halted, halt.reason, halt.changed_by_name) == (True, "IB gateway restarting", "desk-lead")
    assert AuditLog.objects.filter(action="engine_halt", channel="web").count() == 1
    row = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    reason = notice.inner_text().strip()
    for button in (
        row.get_by_test_id("row-buy"),
        row.get_by_test_id("row-sell"),
        page.get_by_test_id("place-order"),
    ):
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", reason)
    expect(row.get_by_test_id("row-close")).to_be_enabled()
    expect(page.get_by_test_id("liquidate-all")).to_be_enabled()
    expect(page.get_by_test_id("engine-resume")).to_be_visible()

    # Close still works while halted: the position goes flat through the engine.
    row.get_by_test_id("row-close").click()
    dialog.locator("#confirm-ok").click()
    expect(page.get_by_test_id("account-positions-table").locator("tr[data-symbol=AAPL]")).to_have_count(
        0, timeout=FILL_TIMEOUT
    )
    assert Position.objects.get(project=project, symbol="AAPL").quantity == 0


def test_a_trader_sees_the_halt_but_no_engine_halt_control(
    page: Page, desk: Any, user: Any, staff: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    open_desk(page, desk, user, project)
    expect(page.get_by_test_id("kill-switch")).to_be_visible()
    expect(page.get_by_test_id("engine-halt")).to_have_count(0)
    engine_halt_set(mode="paper", halted=True, reason="broker maintenance", actor=Actor(user=staff))
    # The trader's page learns it from its poll (the halt bumps every paper project's counters).
    expect(page.get_by_test_id("halt-notice")).to_contain_text("broker maintenance")
    row = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    expect(row.get_by_test_id("row-buy")).to_be_disabled()
    expect(row.get_by_test_id("row-buy")).to_have_attribute("title", re.compile("broker maintenance"))
    expect(row.get_by_test_id("row-close")).to_be_enabled()
    expect(page.get_by_test_id("engine-halt")).to_have_count(0)
    expect(page.get_by_test_id("engine-resume")).to_have_count(0)


def test_realised_pnl_and_totals_after_a_round_trip_fill(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    seed_position(project, "MSFT", 5, "410.45")
    open_desk(page, desk, user, project)
    table = page.get_by_test_id("account-positions-table")
    msft = table.locator("tr[data-symbol=MSFT]")
    msft.locator("input[name=quantity]").fill("2")
    msft.get_by_test_id("row-sell").click()
    table.locator("tr[data-symbol=AAPL]").get_by_test_id("row-close").click()
    page.locator("#confirm-dialog #confirm-ok").click()
    expect(page.locator("#orders-panel tr[data-source=manual][data-status=FILLED]")).to_have_count(
        2, timeout=FILL_TIMEOUT
    )
    expect(table.locator("tr[data-symbol=AAPL]")).to_have_count(0)
    expect(msft.get_by_test_id("position-quantity")).to_have_text("3")

    aapl_row = Position.objects.get(project=project, symbol="AAPL")
    msft_row = Position.objects.get(project=project, symbol="MSFT")
    assert aapl_row.quantity == 0 and msft_row.quantity == 3
    # The engine's fill prices decide the numbers; the page shows the ledger's to the cent.
    expect(msft.get_by_test_id("position-realized-pnl")).to_have_text(money(msft_row.realized_pnl))
    totals = table.get_by_test_id("positions-totals")
    expect(totals.get_by_test_id("total-realized-pnl")).to_have_text(
        money(aapl_row.realized_pnl + msft_row.realized_pnl)
    )
    market_value = msft.get_by_test_id("position-market-value").inner_text()
    expect(totals.get_by_test_id("total-market-value")).to_have_text(market_value)
    expect(totals.get_by_test_id("total-unrealized-pnl")).to_have_text(
        msft.get_by_test_id("position-pnl").inner_text()
    )
    assert TradeOrder.objects.filter(params__source="manual").count() == 2


def test_the_halted_page_with_totals_fits_390_px_without_horizontal_scroll(
    page: Page, desk: Any, staff: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    engine_halt_set(mode="paper", halted=True, reason="a long reason " * 10, actor=Actor(user=staff))
    page.set_viewport_size({"width": 390, "height": 844})
    open_desk(page, desk, staff, project)
    expect(page.get_by_test_id("halt-notice")).to_be_visible()
    expect(page.get_by_test_id("positions-totals")).to_be_attached()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_positions_table_with_realised_pnl_fits_1440_px(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    open_desk(page, desk, user, project)
    wrap = page.get_by_test_id("account-positions-table").locator("xpath=..")
    assert wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth")
