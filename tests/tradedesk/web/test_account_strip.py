"""The page header's account strip: the IB account's figures (labelled as the account's, stale-marked like
prices), hidden from who may not see the mode; the engine-stopped notice and staff's audited Start engine."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from execution.engine import process as engines
from orders.models import AuditLog, Project
from tests.factories import ProjectFactory, UserFactory
from tests.tradedesk.api.test_account import write_account

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def strip(html: str) -> str:
    found = re.search(r'<div id="account-strip".*?\n</div>', html, re.S)
    assert found, "no account strip"
    return found.group(0)


def test_the_header_shows_the_ib_accounts_cash_buying_power_and_net_liquidation(
    project: Project, settings: Any
) -> None:
    settings.IB_LOGINS = {"paper": {"account": "DU1234567"}, "live": {}}
    write_account("paper")
    html = strip(client_for(project.members.get()).get(f"/live-trade?project={project.pk}").content.decode())
    assert "IB paper account DU1234567" in html
    assert "41,234.50" in html and "43,062.25" in html and "44,962.25" in html
    assert "−12.75" in html and 'data-testid="account-stale"' not in html


def test_a_stale_account_is_marked_and_a_missing_one_says_so(project: Project, settings: Any) -> None:
    client = client_for(project.members.get())
    assert "no account figures from the engine yet" in strip(
        client.get(f"/live-trade?project={project.pk}").content.decode()
    )
    write_account("paper", at=timezone.now() - timedelta(seconds=settings.TRADEDESK_PRICE_STALE_SECONDS + 1))
    assert 'data-testid="account-stale"' in strip(
        client.get(f"/live-trade?project={project.pk}").content.decode()
    )


def test_the_strip_poll_is_204_until_the_snapshot_changes(project: Project) -> None:
    write_account("paper")
    client = client_for(project.members.get())
    first = client.get(f"/live-trade/account?project={project.pk}", **HTMX)
    version = re.search(r"v=([0-9a-f]{16})", first.content.decode())
    assert first.status_code == 200 and version
    again = client.get(f"/live-trade/account?project={project.pk}&v={version.group(1)}", **HTMX)
    assert again.status_code == 204
    write_account("paper", buying_power=1000)
    moved = client.get(f"/live-trade/account?project={project.pk}&v={version.group(1)}", **HTMX)
    assert moved.status_code == 200 and "1,000.00" in moved.content.decode()


def test_a_live_project_without_trade_live_shows_no_account_figures() -> None:
    trader = UserFactory(username="lee")
    live = ProjectFactory(name="live-book", mode="live", members=[trader])
    write_account("live")
    html = strip(client_for(trader).get(f"/live-trade?project={live.pk}").content.decode())
    assert "44,962.25" not in html and "account-label" not in html


def test_the_strip_is_in_chinese(project: Project, settings: Any) -> None:
    settings.IB_LOGINS = {"paper": {"account": "DU1234567"}, "live": {}}
    write_account("paper")
    html = strip(
        client_for(project.members.get())
        .get(f"/live-trade?project={project.pk}&lang=zh-hans")
        .content.decode()
    )
    assert "IB 模拟账户 DU1234567" in html and "购买力" in html and "净清算值" in html
    assert "引擎已停止" in html


def test_a_stopped_engine_says_prices_are_the_last_fills_and_only_staff_may_start_it(
    project: Project,
) -> None:
    trader_html = strip(
        client_for(project.members.get()).get(f"/live-trade?project={project.pk}").content.decode()
    )
    assert "engine stopped — prices from the last fill, not the market" in trader_html
    assert 'data-testid="engine-start"' not in trader_html
    denied = client_for(project.members.get()).post(
        "/live-trade/engine-start", {"project": project.pk}, **HTMX
    )
    assert denied.status_code == 403 and engines.running_engine("paper") is None

    staff = UserFactory(username="ops", is_staff=True)
    project.members.add(staff)
    client = client_for(staff)
    assert 'data-testid="engine-start"' in strip(
        client.get(f"/live-trade?project={project.pk}").content.decode()
    )
    response = client.post("/live-trade/engine-start", {"project": project.pk}, **HTMX)
    assert response.status_code == 200
    assert engines.running_engine("paper") is not None
    assert "engine stopped" not in strip(response.content.decode())
    entry = AuditLog.objects.get(action="engine_start")
    assert entry.detail == {"mode": "paper"} and entry.username == "ops"
