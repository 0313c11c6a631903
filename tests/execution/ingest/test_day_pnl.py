"""Day P&L per position and in total against the previous close, reset at the session's start in the
exchange's time zone (09:30 New York): across a session boundary, with fills on either side of it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from execution.contract import market_hours
from execution.ingest import prices
from execution.ingest.day_pnl import project_day_pnl, symbol_day_pnl
from orders.models import Position, Project, TradeFill
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.execution.ingest.test_prices import iso, write_prices
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db

# Tuesday 2026-11-24: the session opens at 09:30 New York = 14:30 UTC.
BEFORE_OPEN = datetime(2026, 11, 24, 14, 29, tzinfo=UTC)
AFTER_OPEN = datetime(2026, 11, 24, 14, 31, tzinfo=UTC)


def test_the_session_day_changes_at_the_open_in_new_york_and_skips_the_weekend() -> None:
    assert market_hours.session_day(BEFORE_OPEN) == date(2026, 11, 23)
    assert market_hours.session_day(AFTER_OPEN) == date(2026, 11, 24)
    assert market_hours.session_day(datetime(2026, 11, 29, 18, 0, tzinfo=UTC)) == date(2026, 11, 27)  # Sunday
    assert market_hours.session_start(date(2026, 11, 24)) == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    assert market_hours.session_start(date(2026, 7, 1)) == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)  # EDT


def test_one_symbols_day_pnl() -> None:
    # 10 held overnight (close 100), last 103; bought 5 more today at 101.
    assert symbol_day_pnl(
        quantity=Decimal(15),
        last=Decimal(103),
        previous_close=Decimal(100),
        fills=[(Decimal(5), Decimal(101))],
    ) == Decimal(40)  # 10 x 3 + 5 x 2
    # Sold the 10 held overnight at 104: flat, no last price needed.
    assert symbol_day_pnl(
        quantity=Decimal(0), last=None, previous_close=Decimal(100), fills=[(Decimal(-10), Decimal(104))]
    ) == Decimal(40)
    # Held overnight without a previous close: unknown, never a guess.
    assert symbol_day_pnl(quantity=Decimal(10), last=Decimal(103), previous_close=None, fills=[]) is None
    # Opened today: the previous close is not needed.
    assert symbol_day_pnl(
        quantity=Decimal(-4), last=Decimal(50), previous_close=None, fills=[(Decimal(-4), Decimal(52))]
    ) == Decimal(8)


def fill(project: Project, symbol: str, side: str, quantity: int, price: str, at: datetime) -> None:
    order = TradeOrderFactory(project=project, symbol=symbol, side=side, quantity=Decimal(quantity))
    update_trade_order_status(order, "SUBMITTED")
    apply_fill_to_order(order, quantity=quantity, price=price)
    TradeFill.objects.filter(order=order).update(filled_at=at)


def test_day_pnl_resets_at_the_session_start(project: Project) -> None:
    fill(project, "AAPL", "BUY", 10, "100", datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # 08:00 NY, pre-open
    fill(project, "AAPL", "BUY", 5, "101", datetime(2026, 11, 24, 14, 45, tzinfo=UTC))  # 09:45 NY
    write_prices("paper", [{"symbol": "AAPL", "last": 103, "previous_close": 100}])
    positions = list(Position.objects.filter(project=project))
    snapshot = prices.positions_value(positions, mode="paper")

    # One minute before Tuesday's open it is still Monday's session (from Monday 09:30 NY); one minute after,
    # Tuesday's: the pre-open buy is then held at the session's start.
    monday = project_day_pnl(project=project, positions=positions, snapshot=snapshot, now=BEFORE_OPEN)
    tuesday = project_day_pnl(project=project, positions=positions, snapshot=snapshot, now=AFTER_OPEN)

    # Tuesday from 09:30 NY: 10 held at the open (close 100) -> +30, 5 bought at 101 -> +10.
    assert tuesday.by_symbol == {"AAPL": Decimal(40)} and tuesday.total == Decimal(40)
    assert tuesday.session_start == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    # Monday's session: both buys fall in it, none held at its start.
    assert monday.by_symbol == {"AAPL": Decimal(15 * 103 - 10 * 100 - 5 * 101)}
    assert positions[0].day_pnl == Decimal(40)  # attached by the last call


def test_a_symbol_closed_today_counts_in_the_total_and_unknowns_are_counted(project: Project) -> None:
    now = timezone.now()
    start = market_hours.session_start(market_hours.session_day(now))
    fill(project, "MSFT", "BUY", 10, "400", start.replace(year=start.year - 1))  # long ago
    fill(project, "MSFT", "SELL", 10, "410", now)  # today: flat now
    fill(project, "KO", "BUY", 3, "60", start.replace(year=start.year - 1))  # held, no previous close known
    write_prices(
        "paper", [{"symbol": "MSFT", "last": 411, "previous_close": 405}, {"symbol": "KO", "last": 61}]
    )
    positions = list(Position.objects.filter(project=project).exclude(quantity=0))
    snapshot = prices.positions_value(positions, mode="paper")
    day = project_day_pnl(project=project, positions=positions, snapshot=snapshot, now=now)
    assert day.by_symbol == {"KO": None, "MSFT": Decimal(50)}  # 10 x (410 - 405)
    assert day.total == Decimal(50) and day.unknown == 1


def test_the_page_and_the_api_show_day_pnl(project: Project, api: Client) -> None:
    now = timezone.now()
    start = market_hours.session_start(market_hours.session_day(now))
    fill(project, "AAPL", "BUY", 10, "100", start.replace(year=start.year - 1))
    write_prices("paper", [{"symbol": "AAPL", "last": 103.5, "previous_close": 101}])
    body = api.get(f"/api/trade/positions?project_id={project.pk}").json()
    assert body[0]["day_pnl"] == "25"
    totals = api.get(f"/api/trade/positions/totals?project_id={project.pk}").json()
    assert (totals["day_pnl"], totals["day_pnl_unknown"]) == ("25", 0)
    client = Client()
    client.force_login(project.members.get())
    html = client.get(f"/live-trade?project={project.pk}").content.decode()
    assert 'data-testid="position-day-pnl">+25.00</td>' in html
    assert "+25.00" in html.split('data-testid="total-day-pnl"')[1][:200]
    zh = client.get(f"/live-trade?project={project.pk}&lang=zh-hans").content.decode()
    assert "当日盈亏" in zh
    assert json.loads(prices.prices_path("paper").read_text())["prices"][0]["previous_close"] == 101
    assert iso(now)
