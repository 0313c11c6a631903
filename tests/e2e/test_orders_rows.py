"""A poll after a change gets only the rows that are new or changed, and the page puts every row where it
belongs: in headless Chromium, after each of a sequence of changes (fills in place and out of the working
block, a reject, a cancel, a partial fill, new orders, the cap), the table the page ends up with is exactly the
one a full render gives, and no poll was answered with the whole table."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.models import Project, TradeOrder
from tests.e2e.conftest import open_desk
from tests.factories import TradeOrderFactory
from tradedesk.web import orders_table

pytestmark = [pytest.mark.e2e]

# The page's table as it is, and the table of a full render fetched now (its out-of-band parts left out).
TABLES_JS = """
async (url) => {
  const live = document.getElementById('orders-panel').innerHTML;
  const response = await fetch(url, {headers: {'HX-Request': 'true'}});
  const template = document.createElement('template');
  template.innerHTML = await response.text();
  template.content.querySelectorAll('[hx-swap-oob]').forEach((part) => part.remove());
  const fresh = document.createElement('section');
  fresh.append(template.content);
  return [live, fresh.innerHTML];
}
"""


def _version(html: str) -> str:
    return html.split('id="orders-version" name="ov" value="')[1].split('"')[0]


def same_as_full_render(page: Page, live_server: Any, project: Project) -> str:
    """Once the page shows the current version, its table equals a full render's; returns the table."""
    url = f"{live_server.url}/live-trade/orders?project={project.pk}"
    deadline = time.monotonic() + 15
    while True:
        live, fresh = page.evaluate(TABLES_JS, url)
        if _version(live) == _version(fresh) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    # Whitespace between tags aside (the page's first table sits indented in the page's own template).
    assert _tags(live) == _tags(fresh)
    return _tags(live)


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def change(order: TradeOrder, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()  # its project's counter moves (orders.services.versions), as every change's does


def test_rows_sent_alone_leave_the_table_exactly_as_a_full_render(
    page: Page, transactional_db: Any, live_server: Any, user: Any, project: Project, monkeypatch: Any
) -> None:
    # The highlight of just-changed rows stays on for the test (else it could end between the two reads),
    # and a table of 6 rows reaches its cap in a few orders.
    monkeypatch.setattr(orders_table, "RECENT_SECONDS", 3600)
    monkeypatch.setattr(orders_table, "ORDERS_SHOWN", 6)
    first, second, third, fourth = (
        TradeOrderFactory(project=project, created_by=user, quantity=Decimal(3)) for _ in range(4)
    )
    answers: list[str] = []
    # The page's own polls (not this test's full renders): their answers, the rows alone or the table.
    page.on(
        "response",
        lambda response: (
            answers.append(response.headers.get("td-rows", "table"))
            if response.request.headers.get("hx-trigger") == "poller" and response.status == 200
            else None
        ),
    )
    open_desk(page, live_server, user, project)
    rows = page.locator("#orders-panel tbody tr[data-order-id]")

    # The oldest working order fills, then the next is rejected and the next canceled: each lands where it
    # stood (working ones first, then the others newest first), so only its row travels.
    change(first, status="FILLED", filled_quantity=Decimal(3), avg_fill_price=Decimal("101.5"), ib_order_id=7)
    expect(page.locator(f"#order-{first.pk}[data-status=FILLED]")).to_have_count(1)
    same_as_full_render(page, live_server, project)
    change(second, status="REJECTED", status_message="Order rejected: no buying power")
    expect(page.locator(f"#order-{second.pk}[data-status=REJECTED]")).to_have_count(1)
    same_as_full_render(page, live_server, project)
    change(third, status="CANCELED")
    expect(page.locator(f"#order-{third.pk}[data-status=CANCELED]")).to_have_count(1)
    same_as_full_render(page, live_server, project)
    assert answers and set(answers) == {"changed"}, answers

    # A new order adds a row on top; a partial fill moves nothing.
    fifth = TradeOrderFactory(project=project, created_by=user, symbol="MSFT")
    expect(page.locator(f"#order-{fifth.pk}")).to_have_count(1)
    same_as_full_render(page, live_server, project)
    change(fourth, status="PARTIALLY_FILLED", filled_quantity=Decimal(1), avg_fill_price=Decimal("99"))
    expect(page.locator(f"#order-{fourth.pk}[data-status=PARTIALLY_FILLED]")).to_have_count(1)
    same_as_full_render(page, live_server, project)

    # Past the cap the oldest row leaves; the working order filling then moves below the working ones.
    newer = [TradeOrderFactory(project=project, created_by=user, symbol="NVDA") for _ in range(2)]
    expect(page.locator(f"#order-{newer[-1].pk}")).to_have_count(1)
    expect(page.locator(f"#order-{first.pk}")).to_have_count(0)
    same_as_full_render(page, live_server, project)
    change(fourth, status="FILLED", filled_quantity=Decimal(3))
    expect(page.locator(f"#order-{fourth.pk}[data-status=FILLED]")).to_have_count(1)
    table = same_as_full_render(page, live_server, project)
    expect(rows).to_have_count(6)
    assert table.count('<tr id="order-') == 6
    assert set(answers) == {"changed"}, answers
