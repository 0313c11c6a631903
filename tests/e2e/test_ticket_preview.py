"""The order ticket's precautions in headless Chromium: the value preview, symbol completion, notices that
never cover a control, and tables whose columns fit a 1440 px screen."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from execution.ingest.prices import prices_path
from orders.models import OrderStatus, Project, TradeOrder
from orders.services import update_trade_order_status
from tests.e2e.conftest import SCREENSHOTS, open_desk, seed_position
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = [pytest.mark.e2e]

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
CONTROLS = "button, input:not([type=hidden]), select, textarea, summary, a[href]"


def engine_prices(mode: str, quotes: dict[str, float]) -> None:
    """A fresh prices snapshot of the mode's engine, as the engine writes it (replaced atomically)."""
    path = prices_path(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    moment = timezone.now().isoformat(timespec="milliseconds")
    payload = {
        "run_id": "r-e2e",
        "time": moment,
        "prices": [{"symbol": s, "last": p} for s, p in quotes.items()],
    }
    tmp = path.with_name(".prices.tmp")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, path)


def working_order(project: Project, user: Any, **fields: Any) -> TradeOrder:
    """An order resting at the engine (never sent anywhere: source "test")."""
    order: TradeOrder = TradeOrderFactory(project=project, created_by=user, **fields)  # type: ignore[assignment]
    update_trade_order_status(order, OrderStatus.SUBMITTED, message="resting")
    return order


def overlapping_controls(page: Page, region: str) -> list[str]:
    """The controls outside `region` that are visible (inside every clipping frame around them) and whose box
    intersects the box of one of the region's children."""
    result: list[str] = page.evaluate(
        """([region, controls]) => {
            const boxes = [...document.querySelectorAll(region + " > *")].map((n) => n.getBoundingClientRect())
                .filter((r) => r.width > 0 && r.height > 0);
            const visiblePart = (el) => {
                let r = el.getBoundingClientRect();
                let box = {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
                for (let a = el.parentElement; a; a = a.parentElement) {
                    if (getComputedStyle(a).overflow === "visible") continue;
                    const c = a.getBoundingClientRect();
                    box = {left: Math.max(box.left, c.left), top: Math.max(box.top, c.top),
                           right: Math.min(box.right, c.right), bottom: Math.min(box.bottom, c.bottom)};
                }
                box.right = Math.min(box.right, innerWidth);
                box.bottom = Math.min(box.bottom, innerHeight);
                return box.right > box.left && box.bottom > box.top ? box : null;
            };
            const hits = [];
            for (const el of document.querySelectorAll(controls)) {
                if (el.closest(region) || el.closest("[hidden]") || getComputedStyle(el).visibility === "hidden") continue;
                const r = visiblePart(el);
                if (!r) continue;
                for (const b of boxes) {
                    if (r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) {
                        hits.push((el.id || el.dataset.testid || el.tagName) + " " + JSON.stringify(r));
                    }
                }
            }
            return hits;
        }""",
        [region, CONTROLS],
    )
    return result


def test_typing_quantity_and_limit_previews_the_value_and_the_distance_from_the_last_price(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    engine_prices(project.mode, {"AAPL": 188.10})
    open_desk(page, desk, user, project)
    ticket = page.get_by_test_id("order-form")
    preview = page.get_by_test_id("ticket-preview")

    ticket.locator("#ticket-symbol").fill("AAPL")
    ticket.locator("#ticket-quantity").fill("20")
    expect(preview.get_by_test_id("preview-value")).to_have_text("≈ $3,762")
    expect(preview).to_contain_text("at last 188.10")

    ticket.locator("#ticket-type").select_option("LMT")
    ticket.locator("#ticket-limit").fill("210.67")
    expect(preview.get_by_test_id("preview-value")).to_have_text("≈ $4,213")
    expect(preview.get_by_test_id("preview-deviation")).to_contain_text("+12% vs last 188.10")
    expect(preview.get_by_test_id("preview-deviation")).to_have_attribute("data-band", "soft")

    ticket.locator("#ticket-limit").fill("1881")  # an extra digit
    expect(preview.get_by_test_id("preview-value")).to_have_text("≈ $37,620")
    expect(preview.get_by_test_id("preview-deviation")).to_contain_text("10x last 188.10")
    expect(preview.get_by_test_id("preview-deviation")).to_have_attribute("data-band", "hard")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#ticket").screenshot(path=str(SCREENSHOTS / "ticket-preview.png"))


def test_a_position_rows_quantity_previews_its_value_and_follows_the_engines_new_price(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "MSFT", 5, "410.45")
    open_desk(page, desk, user, project)
    row = page.get_by_test_id("account-positions-table").locator("tr[data-symbol=MSFT]")
    value = row.get_by_test_id("row-preview").get_by_test_id("preview-value")
    row.locator(".qty-input").fill("3")
    expect(value).to_have_text("≈ $1,231")  # at the last fill

    # A new engine price re-renders the table: the typed quantity stays and the preview follows the price.
    engine_prices(project.mode, {"MSFT": 420.00})
    expect(row.get_by_test_id("position-last-price")).to_have_text("420.00")
    expect(value).to_have_text("≈ $1,260")
    expect(row.locator(".qty-input")).to_have_value("3")


def test_completion_offers_the_projects_position_and_the_universe_but_not_another_projects_symbol(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    seed_position(project, "AAPX", 4, "12.00")
    other: Project = ProjectFactory(name="beta", members=[user])  # type: ignore[assignment]
    seed_position(other, "AAPY", 4, "12.00")
    open_desk(page, desk, user, project)
    symbol = page.locator("#ticket-symbol")
    expect(symbol).to_have_attribute("list", "ticket-symbols")
    symbol.fill("AAP")
    options = page.locator("#ticket-symbols option")
    expect(options.first).to_have_attribute("value", "AAPX")  # the position first
    expect(page.locator("#ticket-symbols option[value=AAPL]")).to_have_count(1)  # the universe
    expect(page.locator("#ticket-symbols option[value=AAPY]")).to_have_count(0)  # another project's


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_a_notice_after_cancelling_names_the_order_and_covers_no_control(
    page: Page, desk: Any, user: Any, project: Project, viewport: ViewportSize
) -> None:
    seed_position(project, "AAPL", 10, "189.20")
    for n in range(20):  # a full blotter: its Cancel buttons reach the bottom of the screen
        working_order(
            project, user, symbol="MSFT", quantity=Decimal(3), order_type="LMT", limit_price=Decimal(100 + n)
        )
    page.set_viewport_size(viewport)
    open_desk(page, desk, user, project)

    cancel = (
        page.locator("#orders-panel tr[data-order-id]")
        .filter(has_text="@ 100.00")
        .get_by_test_id("order-cancel")
    )
    cancel.click()
    notice = page.locator("#notices .notice").last
    expect(notice).to_contain_text("Cancel requested: Buy 3 MSFT @ 100")
    notice.hover()  # held while pointed at, so it stays for the checks below
    expect(notice).to_be_in_viewport()
    expect(notice.locator(".notice-close")).to_be_visible()
    assert overlapping_controls(page, "#notices") == []

    # Wherever the page is scrolled to, from the top to the bottom, nothing lies under the notice.
    height = page.evaluate(
        "Math.max(document.scrollingElement.scrollHeight, document.getElementById('page-scroll').scrollHeight)"
    )
    for top in range(0, height + 200, 200):
        page.evaluate(
            "(top) => [document.scrollingElement, document.getElementById('page-scroll')].forEach((s) => s.scrollTo({top}))",
            top,
        )
        assert overlapping_controls(page, "#notices") == [], top
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"notice-{viewport['width']}.png"))

    notice.locator(".notice-close").click()
    expect(page.locator("#notices .notice")).to_have_count(0)


def test_at_1440_every_column_of_the_orders_and_positions_fits(
    page: Page, desk: Any, user: Any, project: Project
) -> None:
    for symbol, quantity, price in (
        ("AAPL", 10, "189.20"),
        ("BRK.B", 1250, "412.3456"),
        ("NVDA", 800, "131.10"),
    ):
        seed_position(project, symbol, quantity, price)
    working_order(
        project,
        user,
        symbol="EURUSD",
        quantity=Decimal(125000),
        order_type="LMT",
        limit_price=Decimal("1.2345"),
    )
    working_order(
        project,
        user,
        symbol="BRK.B",
        quantity=Decimal(1250),
        order_type="STP LMT",
        stop_price=Decimal("412.3456"),
        limit_price=Decimal("413.9999"),
        ib_order_id=1234567,  # at the engine: Edit beside Cancel
        time_in_force="GTD",  # the widest type cell: prices, a GTD date and outside RTH
        good_till_date=date(2030, 12, 31),
        outside_rth=True,
    )
    working_order(
        project, user, symbol="AAPL", quantity=Decimal(10), order_type="STP", stop_price=Decimal("180.25")
    )
    partial = working_order(project, user, symbol="MSFT", quantity=Decimal(5), ib_order_id=1234568)
    update_trade_order_status(partial, OrderStatus.PARTIALLY_FILLED, message="partial")
    for _ in range(20):  # a long blotter: the page and the orders frame both scroll vertically
        TradeOrderFactory(project=project, created_by=user, symbol="NVDA", status=OrderStatus.CANCELED)
    page.set_viewport_size(DESKTOP)
    open_desk(page, desk, user, project)
    expect(page.locator("#orders-panel tr[data-order-id]")).to_have_count(27)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "columns-1440.png"))

    wrappers = page.evaluate(
        """() => [...document.querySelectorAll(".table-wrap")].map((w) => [w.scrollWidth, w.clientWidth])"""
    )
    assert len(wrappers) == 2
    assert all(scroll <= client for scroll, client in wrappers), wrappers
    clipped = page.evaluate(
        """() => [...document.querySelectorAll(".grid-orders :is(td, th):not(.msg), .grid-positions :is(td, th)")]
            .filter((td) => td.scrollWidth > td.clientWidth)
            .map((td) => td.closest("tr").id + ": " + td.textContent.trim())"""
    )
    assert clipped == [], clipped
    for button in page.get_by_test_id("order-cancel").all():
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP["width"]
    expect(page.get_by_test_id("order-type").filter(has_text="@ 1.2345")).to_have_text("LMT @ 1.2345")
