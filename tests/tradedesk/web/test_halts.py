"""The page's engine-wide halt (staff control, what is halted in words, disabled Buy / Sell / Place with the
reason) and the positions table's realised P&L and totals."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import AuditLog, EngineHalt, Project, TradeOrder
from orders.services import Actor, apply_fill_to_order, engine_halt_set
from tests.factories import TradeOrderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]

PAGE = reverse("live-trade")
HALT = reverse("live-trade-engine-halt")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def staff(project: Project) -> Any:
    lead = UserFactory(username="desk-lead", is_staff=True)
    project.members.add(lead)
    return lead


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fill(project: Project, symbol: str, side: str, quantity: str, price: str) -> None:
    order = TradeOrderFactory(project=project, symbol=symbol, side=side, quantity=Decimal(quantity))
    apply_fill_to_order(order, quantity=quantity, price=price)


def is_disabled(tag: str) -> bool:
    """Whether a button's opening tag carries the disabled attribute (not hx-disabled-elt)."""
    return re.search(r"\sdisabled[\s>=]", tag) is not None


def button(html: str, testid: str) -> str:
    """The opening tag of the first button with this data-testid."""
    match = re.search(rf'<button[^>]*data-testid="{testid}"[^>]*>', html)
    assert match is not None, testid
    return match.group(0)


def test_staff_see_the_engine_halt_control_and_traders_do_not(
    project: Project, user: Any, staff: Any
) -> None:
    staff_page = logged_in(staff).get(PAGE, {"project": project.pk}).content.decode()
    control = button(staff_page, "engine-halt")
    assert "Halt the PAPER engine for ALL PAPER projects?" in control
    assert "data-confirm-reason" in control
    trader_page = logged_in(user).get(PAGE, {"project": project.pk}).content.decode()
    assert 'data-testid="engine-halt"' not in trader_page
    assert 'data-testid="engine-resume"' not in trader_page


def test_staff_halt_from_the_page_then_every_trader_sees_what_is_halted(
    project: Project, user: Any, staff: Any
) -> None:
    fill(project, "AAPL", "BUY", "5", "100")
    response = logged_in(staff).post(
        HALT, {"project": project.pk, "halted": "true", "reason": "IB down"}, **HTMX
    )
    assert response.status_code == 204 and response["HX-Redirect"]
    halt = EngineHalt.objects.get(mode="paper")
    assert (halt.halted, halt.reason, halt.changed_by_name) == (True, "IB down", "desk-lead")
    assert AuditLog.objects.get(action="engine_halt").channel == "web"
    page = logged_in(user).get(PAGE, {"project": project.pk}).content.decode()
    at = halt.changed_at.strftime("%Y-%m-%d %H:%M")
    reason = (
        f"The PAPER engine is halted for all projects by desk-lead at {at} UTC: IB down. "
        "Only Close and Liquidate are allowed."
    )
    assert f'data-testid="halt-notice" role="status">{reason}<' in page
    for testid in ("row-buy", "row-sell", "place-order"):
        assert f'disabled title="{reason}"' in button(page, testid)
    assert not is_disabled(button(page, "row-close"))
    assert not is_disabled(button(page, "liquidate-all"))


def test_the_project_halt_says_this_project(client: Client, project: Project, user: Any) -> None:
    project.trading_state = "HALTED"
    project.save()
    page = logged_in(user).get(PAGE, {"project": project.pk}).content.decode()
    assert 'data-testid="halt-notice" role="status">This project is halted<' in page
    assert 'title="Trading is halted: only Close and Liquidate are allowed"' in button(page, "place-order")


def test_a_trader_posting_a_halt_is_refused_and_nothing_changes(project: Project, user: Any) -> None:
    response = logged_in(user).post(HALT, {"project": project.pk, "halted": "true", "reason": "x"}, **HTMX)
    assert response.status_code == 403
    assert not EngineHalt.objects.filter(halted=True).exists()


def test_staff_resume_from_the_page(project: Project, staff: Any) -> None:
    engine_halt_set(mode="paper", halted=True, reason="drill", actor=Actor(user=staff))
    client = logged_in(staff)
    assert 'data-testid="engine-resume"' in client.get(PAGE, {"project": project.pk}).content.decode()
    client.post(HALT, {"project": project.pk, "halted": "false"}, **HTMX)
    assert EngineHalt.objects.get(mode="paper").halted is False
    page = client.get(PAGE, {"project": project.pk}).content.decode()
    assert 'data-testid="halt-notice"' not in page and not is_disabled(button(page, "place-order"))


def test_a_refused_order_shows_the_halt_in_chinese(project: Project, user: Any, staff: Any) -> None:
    engine_halt_set(mode="paper", halted=True, reason="IB down", actor=Actor(user=staff))
    ticket = {
        "project": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": "1", "order_type": "MKT",
        "client_order_id": "zh-1",
    }  # fmt: skip
    response = logged_in(user).post(reverse("live-trade-order-new") + "?lang=zh-hans", ticket, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "PAPER 引擎已被 desk-lead 对所有项目暂停：IB down。只允许平仓和全部平仓。" in html
    assert not TradeOrder.objects.filter(client_order_id="zh-1").exists()


def test_positions_show_realised_pnl_and_totals_with_flat_positions(project: Project, user: Any) -> None:
    fill(project, "AAPL", "BUY", "10", "100.10")
    fill(project, "AAPL", "SELL", "4", "112.60")
    fill(project, "MSFT", "BUY", "2", "50")
    fill(project, "MSFT", "SELL", "2", "47.25")
    page = logged_in(user).get(PAGE, {"project": project.pk}).content.decode()
    assert re.search(r'data-testid="position-realized-pnl">\+50\.00<', page)
    assert "MSFT" not in page.split('data-testid="account-positions-table"')[1].split("</tbody>")[0]
    assert re.search(r'data-testid="total-market-value">675\.60<', page)
    assert re.search(r'data-testid="total-unrealized-pnl">\+75\.00<', page)
    assert re.search(r'data-testid="total-realized-pnl"[^>]*>\+44\.50<', page)
