"""The orders table's row cache (tradedesk/web/orders_table.py): a row is rendered again whenever a column it
shows changed, whoever wrote it and whether or not updated_at moved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from orders.models import OrderStatus, Project, TradeOrder
from tests.factories import TradeOrderFactory
from tradedesk.web.orders_table import orders_shown, rendered_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def row_of(project: Project, order: TradeOrder) -> str:
    """The order's row as the table renders it now."""
    shown = orders_shown(project)
    rows = rendered_rows(shown, project=project, selected_id=None, cutoff=timezone.now())
    return next(row.html for row in rows if row.order_id == order.pk)


def test_a_shown_column_written_without_updated_at_renders_the_row_again(project: Project) -> None:
    order = TradeOrderFactory(project=project, quantity=Decimal(10), status=OrderStatus.SUBMITTED)
    before = row_of(project, order)
    stamp = TradeOrder.objects.get(pk=order.pk).updated_at
    # A bulk UPDATE that forgot updated_at: the row must not come from the cache.
    TradeOrder.objects.filter(pk=order.pk).update(filled_quantity=Decimal(4), updated_at=stamp)
    after = row_of(project, order)
    assert after != before
    assert 'data-status="SUBMITTED"' in after


def test_an_unchanged_order_is_served_from_the_cache(project: Project, monkeypatch: Any) -> None:
    order = TradeOrderFactory(project=project, quantity=Decimal(10), status=OrderStatus.SUBMITTED)
    first = row_of(project, order)
    renders: list[str] = []

    def render(*args: Any, **kwargs: Any) -> str:
        renders.append(args[0])
        return ""

    monkeypatch.setattr("tradedesk.web.orders_table.render_to_string", render)
    assert row_of(project, order) == first
    assert renders == []
