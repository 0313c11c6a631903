"""The P&L picture: beat's samples (realised + unrealised from the prices the desk reads, each open
position's last price), pruned by the retention setting, drawn as server-side SVG with the live value last;
per-position sparklines; readable in zh-hans."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from execution import actions
from execution.models import PnlSample
from orders.models import Project
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.execution.ingest.test_prices import write_prices
from tests.factories import TradeOrderFactory
from tradedesk.web.charts import line

pytestmark = pytest.mark.django_db


def hold(project: Project, symbol: str, quantity: int, price: str) -> None:
    order = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(quantity))
    update_trade_order_status(order, "SUBMITTED")
    apply_fill_to_order(order, quantity=quantity, price=price)


def test_line_scales_values_into_the_box_and_keeps_zero_in_range() -> None:
    drawn = line([Decimal(-10), Decimal(0), Decimal(30)], width=300, height=60, zero=True)
    assert drawn is not None and drawn.count == 3
    assert drawn.points == "0.0,58.0 150.0,44.0 300.0,2.0"
    assert drawn.zero_y == 44.0
    assert line([Decimal(1)], width=10, height=10) is None
    flat = line([Decimal(5), Decimal(5)], width=10, height=10)
    assert flat is not None and flat.points == "0.0,5.0 10.0,5.0"


def test_samples_are_taken_from_the_prices_and_pruned_by_the_retention(
    project: Project, settings: Any
) -> None:
    settings.TRADEDESK_RETENTION_DAYS = 30
    hold(project, "AAPL", 10, "100")
    write_prices("paper", [{"symbol": "AAPL", "last": 103}])
    old = PnlSample.objects.create(
        project=project,
        mode="paper",
        at=timezone.now() - timedelta(days=31),
        realized_pnl=0,
        unrealized_pnl=0,
    )
    assert actions.pnl_sample_all() == {"sampled": 1, "pruned": 1}
    sample = PnlSample.objects.get()
    assert sample.pk != old.pk and sample.unrealized_pnl == Decimal(30) and sample.prices == {"AAPL": "103"}
    settings.TRADEDESK_RETENTION_DAYS = 0  # never prune
    PnlSample.objects.filter(pk=sample.pk).update(at=timezone.now() - timedelta(days=400))
    assert actions.pnl_sample_all()["pruned"] == 0 and PnlSample.objects.count() == 2


def test_the_page_draws_the_chart_and_sparklines_and_they_move_with_the_prices(project: Project) -> None:
    hold(project, "AAPL", 10, "100")
    write_prices("paper", [{"symbol": "AAPL", "last": 101}])
    actions.pnl_sample_all(now=timezone.now() - timedelta(seconds=1))
    client = Client()
    client.force_login(project.members.get())
    write_prices("paper", [{"symbol": "AAPL", "last": 104}])
    html = client.get(f"/live-trade?project={project.pk}").content.decode()
    chart = re.search(r'<figure class="pnl-chart".*?</figure>', html, re.S)
    assert chart, "no chart"
    assert 'data-points="2"' in chart.group(0) and 'class="pnl-line up"' in chart.group(0)
    assert 'data-testid="pnl-now">+40.00<' in chart.group(0)
    assert 'data-testid="position-sparkline"' in html and 'class="sparkline up"' in html

    write_prices("paper", [{"symbol": "AAPL", "last": 95}])
    panel = client.get(f"/live-trade/prices?project={project.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="pnl-now">−50.00<' in panel and 'class="pnl-line down"' in panel
    zh = client.get(f"/live-trade?project={project.pk}&lang=zh-hans").content.decode()
    assert "今日盈亏（已实现 + 未实现）" in zh


def test_without_samples_the_chart_says_it_fills_in(project: Project) -> None:
    client = Client()
    client.force_login(project.members.get())
    html = client.get(f"/live-trade?project={project.pk}").content.decode()
    assert 'data-testid="pnl-empty"' in html
