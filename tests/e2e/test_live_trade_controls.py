"""The live-trade page's controls in headless Chromium: the buttons a HALTED project leaves, a resting limit
order never marked stale, Close selected only with a ticked position, and the phone layout."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from execution import actions as services
from execution.engine import process as engines
from orders.models import OrderStatus, Project, TradeOrder, TradingState
from tests.e2e.conftest import open_desk, seed_position
from tests.factories import TradeOrderFactory

pytestmark = [pytest.mark.e2e]


def test_halted_leaves_close_enabled_and_disables_buy_sell_and_place_order(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    Project.objects.filter(pk=project.pk).update(trading_state=TradingState.HALTED)
    open_desk(page, desk, user, project)
    row = page.get_by_test_id("account-positions-table").locator("tbody tr").first
    expect(row.get_by_test_id("row-close")).to_be_enabled()
    expect(page.get_by_test_id("liquidate-all")).to_be_enabled()
    expect(row.get_by_test_id("row-buy")).to_be_disabled()
    expect(row.get_by_test_id("row-sell")).to_be_disabled()
    expect(page.get_by_test_id("place-order")).to_be_disabled()
    expect(row.get_by_test_id("row-buy")).to_have_attribute(
        "title", "Trading is halted: only Close and Liquidate are allowed"
    )
    expect(page.get_by_test_id("reduce-only")).to_be_visible()


def test_a_resting_limit_order_is_not_stale_after_the_threshold(
    page: Page, desk: Any, user: Any, project: Project, monkeypatch: Any
) -> None:
    monkeypatch.setattr(engines, "engine_state", lambda mode: engines.EngineState(mode=mode, state="running"))
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    order = TradeOrderFactory(
        project=project,
        params=params,
        created_by=user,
        order_type="LMT",
        limit_price=Decimal("150.00"),
        status=OrderStatus.SUBMITTED,
    )
    TradeOrder.objects.filter(pk=order.pk).update(last_status_ts=timezone.now() - timedelta(hours=1))
    services.orders_sweep(enqueue=lambda _: None)
    open_desk(page, desk, user, project)
    row = page.locator(f"#orders-panel tr[data-order-id='{order.pk}']")
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("STALE")
    expect(row).not_to_contain_text("too long")


def test_the_page_at_390_px_has_no_horizontal_scroll(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    page.set_viewport_size({"width": 390, "height": 844})
    open_desk(page, desk, user, project)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The page scrolls inside #page-scroll (the notices dock under it): that frame has no sideways scroll either.
    assert page.evaluate(
        "(() => { const s = document.getElementById('page-scroll'); return s.scrollWidth <= s.clientWidth; })()"
    )


def test_close_selected_is_disabled_until_a_position_is_ticked(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    open_desk(page, desk, user, project)
    expect(page.get_by_test_id("close-selected")).to_be_disabled()
    page.locator(".pos-select").first.check()
    expect(page.get_by_test_id("close-selected")).to_be_enabled()
