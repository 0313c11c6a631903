"""GET /api/trade/account?mode=: the mode's IB account from the engine's account snapshot (account.json read
through the prices' snapshot reader), per-mode permissions, /metrics gauges only under staff access."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from execution.ingest import account, prices
from orders.models import Project
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SNAPSHOT = {
    "run_id": "r-1",
    "currency": "USD",
    "cash": [{"currency": "USD", "amount": 41234.5}, {"currency": "EUR", "amount": 10}],
    "net_liquidation": 44962.25,
    "total_margin_used": 1900,
    "buying_power": 43062.25,
    "unrealized_pnl": -12.75,
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_account(mode: str, *, at: datetime | None = None, **changes: Any) -> Path:
    path = account.account_path(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".account.tmp")
    tmp.write_text(json.dumps({**SNAPSHOT, "time": iso(at or timezone.now()), **changes}))
    os.replace(tmp, path)
    return path


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_account_of_a_mode_of_the_users_projects(project: Project, settings: Any) -> None:
    settings.IB_LOGINS = {"paper": {"account": "DU1234567"}, "live": {}}
    write_account("paper")
    body = client_for(project.members.get()).get("/api/trade/account?mode=paper").json()
    assert body["mode"] == "paper" and body["account_id"] == "DU1234567" and body["stale"] is False
    assert body["cash"] == [{"currency": "EUR", "amount": "10"}, {"currency": "USD", "amount": "41234.5"}]
    assert (body["net_liquidation"], body["buying_power"]) == ("44962.25", "43062.25")
    assert (body["total_margin_used"], body["unrealized_pnl"]) == ("1900", "-12.75")


def test_without_a_snapshot_the_numbers_are_null_and_stale(project: Project) -> None:
    body = client_for(project.members.get()).get("/api/trade/account?mode=paper").json()
    assert body["stale"] is True and body["net_liquidation"] is None and body["cash"] == []


def test_an_old_snapshot_is_stale(project: Project, settings: Any) -> None:
    write_account("paper", at=timezone.now() - timedelta(seconds=settings.TRADEDESK_PRICE_STALE_SECONDS + 5))
    body = client_for(project.members.get()).get("/api/trade/account?mode=paper").json()
    assert body["stale"] is True and body["buying_power"] == "43062.25"


def test_a_mode_without_a_project_of_the_user_is_403(project: Project) -> None:
    write_account("live")
    response = client_for(project.members.get()).get("/api/trade/account?mode=live")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_live_needs_trade_live_even_for_a_member_of_a_live_project() -> None:
    trader = UserFactory(username="lee")
    ProjectFactory(name="live-book", mode="live", members=[trader])
    write_account("live")
    assert client_for(trader).get("/api/trade/account?mode=live").status_code == 403
    trader.user_permissions.add(Permission.objects.get(codename="trade_live"))
    trader = type(trader).objects.get(pk=trader.pk)  # a fresh permission cache
    response = client_for(trader).get("/api/trade/account?mode=live")
    assert response.status_code == 200 and response.json()["net_liquidation"] == "44962.25"


def test_staff_see_paper_without_a_project_but_live_only_with_trade_live() -> None:
    staff = UserFactory(username="ops", is_staff=True)
    write_account("paper")
    write_account("live")
    client = client_for(staff)
    assert client.get("/api/trade/account?mode=paper").status_code == 200
    assert client.get("/api/trade/account?mode=live").status_code == 403


def test_bad_mode_is_422_and_no_credentials_401(project: Project) -> None:
    response = client_for(project.members.get()).get("/api/trade/account?mode=demo")
    assert response.status_code == 422 and response.json()["errors"] == {"mode": "unknown mode"}
    assert Client().get("/api/trade/account?mode=paper").status_code == 401


def test_bearer_token_reads_it(api: Client, project: Project) -> None:
    write_account("paper")
    assert api.get("/api/trade/account?mode=paper").json()["buying_power"] == "43062.25"


def test_a_snapshot_that_breaks_the_shape_is_none() -> None:
    good = {**SNAPSHOT, "time": "2026-11-25T19:00:00.000Z"}
    assert account.parse_account(good) is not None
    for broken in (
        {**good, "net_liquidation": "44962"},
        {**good, "buying_power": None},
        {**good, "currency": "usd"},
        {**good, "time": "yesterday"},
        [good],
    ):
        assert account.parse_account(broken) is None
    cash = account.parse_account({**good, "cash": [{"currency": "X", "amount": 1}, "junk"]})
    assert cash is not None and cash.cash == ()


def test_the_account_is_read_by_the_prices_reader_once_per_replacement(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_account("paper")
    reads: list[Path] = []
    real = prices.read_json
    monkeypatch.setattr(prices, "read_json", lambda path: reads.append(path) or real(path))
    first = account.account_snapshot("paper")
    assert account.account_snapshot("paper") is first and len(reads) == 1
    write_account("paper", buying_power=1)
    replaced = account.account_snapshot("paper")
    assert replaced is not None and replaced.buying_power == 1 and len(reads) == 2
    assert replaced.version != (first.version if first else "")


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_have_the_account_gauges_only_under_staff_access(settings: Any) -> None:
    write_account("paper")
    staff = client_for(UserFactory(username="ops", is_staff=True))
    found = metric_samples(staff.get("/metrics").content.decode())
    assert found[("tradedesk_account_net_liquidation", (("currency", "USD"), ("mode", "paper")))] == 44962.25
    assert found[("tradedesk_account_buying_power", (("currency", "USD"), ("mode", "paper")))] == 43062.25
    assert found[("tradedesk_account_cash", (("currency", "EUR"), ("mode", "paper")))] == 10

    settings.TRADEDESK_METRICS_ACCESS = "open"
    opened = metric_samples(Client().get("/metrics").content.decode())
    assert not [name for name, _labels in opened if name.startswith("tradedesk_account_")]
    assert any(name == "tradedesk_engine_up" for name, _labels in opened)
