"""What an event's fills do to the positions: a sell realises P&L, paper and live never mix."""

from __future__ import annotations

from decimal import Decimal

import pytest

from execution.ingest.events import apply_execution_events
from orders.models import Position
from tests.execution.ingest.event_lines import ev
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db


def test_sell_fill_moves_position_down_and_realises_pnl() -> None:
    project = ProjectFactory()
    buy = TradeOrderFactory(project=project, client_order_id="b1", side="BUY", quantity=Decimal(10))
    sell = TradeOrderFactory(project=project, client_order_id="s1", side="SELL", quantity=Decimal(4))
    apply_execution_events([ev("b1", "Filled", 1, order_id=1, filled=10, fill_price=100.0)])
    apply_execution_events([ev("s1", "Filled", 2, order_id=2, filled=4, fill_price=110.0)])
    position = Position.objects.get(project=project, symbol="AAPL")
    assert position.quantity == Decimal(6)
    assert position.avg_cost == Decimal(100)
    assert position.realized_pnl == Decimal(40)
    assert buy.pk and sell.pk


def test_paper_and_live_positions_never_mix() -> None:
    paper = TradeOrderFactory(client_order_id="p1", project=ProjectFactory(mode="paper"))
    live = TradeOrderFactory(client_order_id="l1", project=ProjectFactory(mode="live"))
    apply_execution_events(
        [
            ev("p1", "Filled", 1, order_id=1, filled=1, fill_price=1.0),
            ev("l1", "Filled", 1, order_id=2, filled=1, fill_price=1.0),
        ]
    )
    assert Position.objects.get(project=paper.project).mode == "paper"
    assert Position.objects.get(project=live.project).mode == "live"
