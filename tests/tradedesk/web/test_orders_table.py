"""The orders table's row cache (tradedesk/web/orders_table.py): a row is rendered again whenever a column it
shows changed, whoever wrote it and whether or not updated_at moved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from orders.models import BracketRole, BracketState, OrderStatus, Project, TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory
from tradedesk.web import orders_table
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


def test_the_table_reads_the_projects_own_orders_in_its_mode_with_each_brackets_legs_under_its_entry(
    project: Project,
) -> None:
    # The statement is built once with stand-ins for the project and the mode: each call's own go in.
    mine = TradeOrderFactory(project=project)
    TradeOrderFactory(project=ProjectFactory(name="beta"))
    TradeOrderFactory(project=project, mode="live")
    entry = TradeOrderFactory(
        project=project, bracket_role=BracketRole.ENTRY, bracket_state=BracketState.OPEN
    )
    stop = TradeOrderFactory(
        project=project, parent=entry, bracket_role=BracketRole.STOP_LOSS, order_type="STP", stop_price=90
    )
    profit = TradeOrderFactory(
        project=project, parent=entry, bracket_role=BracketRole.TAKE_PROFIT, order_type="LMT", limit_price=120
    )
    newer = TradeOrderFactory(project=project)
    TradeOrder.objects.filter(pk=mine.pk).update(status=OrderStatus.FILLED)  # after the working ones
    assert [order.pk for order in orders_shown(project)] == [newer.pk, entry.pk, profit.pk, stop.pk, mine.pk]
    assert [order.pk for order in orders_shown(ProjectFactory(name="beta"))] != []


def test_a_row_read_as_its_columns_renders_as_its_model_instance(project: Project) -> None:
    order = TradeOrderFactory(
        project=project,
        quantity=Decimal(10),
        status=OrderStatus.PARTIALLY_FILLED,
        filled_quantity=Decimal(4),
        avg_fill_price=Decimal("101.25"),
        status_message="partly filled",
    )
    (shown,) = orders_shown(project)
    cutoff = timezone.now()
    orders_table._ROWS.clear()
    (from_columns,) = rendered_rows([shown], project=project, selected_id=None, cutoff=cutoff)
    orders_table._ROWS.clear()
    instance = TradeOrder.objects.get(pk=order.pk)
    (from_instance,) = rendered_rows([instance], project=project, selected_id=None, cutoff=cutoff)
    assert from_columns.html == from_instance.html
    assert 'data-status="PARTIALLY_FILLED"' in from_columns.html and "partly filled" in from_columns.html
    assert shown.data == orders_table.row_data(instance)  # one key, whichever way the row was read
