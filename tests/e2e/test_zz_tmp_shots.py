from typing import Any
import pytest
from playwright.sync_api import Page, expect
from orders.models import Project
from tests.e2e.conftest import log_in, seed_position
from tests.e2e.test_live_trade import open_desk

pytestmark = [pytest.mark.e2e]


def test_shots(page: Page, desk: Any, trader: Any, book: Project) -> None:
    seed_position(book, "AAPL", 10, "189.20")
    seed_position(book, "MSFT", 5, "410.45")
    Project.objects.filter(pk=book.pk).update(mode="live")
    from orders.models import Position
    Position.objects.update(mode="live")
    trader.is_superuser = True
    trader.save()
    open_desk(page, desk, trader, book)
    page.locator("#ticket-quantity").fill("0")
    page.locator("#ticket-symbol").fill("AAPL")
    page.locator("#ticket-type").select_option("LMT")
    page.locator(".btn-submit").click()
    expect(page.get_by_test_id("error-quantity")).to_contain_text("greater")
    first = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    first.locator("input[name=quantity]").fill("-1")
    first.get_by_test_id("row-buy").click()
    expect(first.get_by_test_id("row-error")).to_contain_text("greater")
    page.screenshot(path="/tmp/h6/live-errors.png")
    page.get_by_test_id("liquidate-all").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-name").fill("alp")
    page.screenshot(path="/tmp/h6/live-dialog.png")
    page.keyboard.press("Escape")
    page.get_by_test_id("kill-switch").click()
    page.locator("#confirm-ok").click()
    expect(page.get_by_test_id("trading-state")).to_contain_text("Halted")
    page.screenshot(path="/tmp/h6/live-halted.png")
    page.goto(f"{desk.url}/live-trade?project={book.pk}&lang=zh-hans")
    page.screenshot(path="/tmp/h6/zh.png")
    page.context.clear_cookies()
    page.goto(f"{desk.url}/accounts/login/")
    page.screenshot(path="/tmp/h6/login.png")
