"""The orders a batch of events applies to: read and locked (SELECT ... FOR UPDATE) in id order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models.fields.json import KT

from orders.db.bulk import binary_cursor, column, postgresql
from orders.models import ENGINE_RECORD_KEY, RUN_ID_LOOKUP, TradeOrder

# Columns of a locked order that applying events reads.
_ORDER_COLUMNS = (
    "id",
    "client_order_id",
    "project_id",
    "mode",
    "symbol",
    "side",
    "quantity",
    "status",
    "status_ts",
    "status_message",
    "last_status_ts",
    "ib_order_id",
    "filled_quantity",
    "filled_notional",
    "avg_fill_price",
    "fees",
    "flag",
    "flag_message",
    "overfilled",
    "future_event_time",
    "update_pending",
    "broker_order_id",
    "update_refused",
    "update_refused_message",
    "parent_id",
    "bracket_role",
    "order_type",
    "stop_price",
)


@dataclass(slots=True)
class LockedOrder:
    """The columns of a locked order that applying events reads and changes."""

    pk: int
    client_order_id: str
    project_id: int
    mode: str
    symbol: str
    side: str
    quantity: Decimal
    status: str
    status_ts: datetime | None
    status_message: str
    last_status_ts: datetime | None
    ib_order_id: int | None
    filled_quantity: Decimal
    filled_notional: Decimal
    avg_fill_price: Decimal | None
    fees: Decimal
    flag: str
    flag_message: str
    overfilled: bool
    future_event_time: bool
    update_pending: bool  # a modify waits for the engine: only such orders have an update to settle
    broker_order_id: str
    update_refused: bool
    update_refused_message: str
    parent_id: int | None  # a bracket child's entry (read only: brackets_settle sizes children)
    bracket_role: str
    order_type: str
    stop_price: Decimal | None  # a trailing stop's is its engine's current stop
    dispatch_run: str | None  # params.manual_execution.run_id: the run the order was handed to


def lock_orders(tags: set[str], mode: str | None) -> dict[str, LockedOrder]:
    """Lock the orders with these tags (of `mode` when given), SELECT ... FOR UPDATE in id order."""
    if postgresql():
        columns = ", ".join(column(TradeOrder, name) for name in _ORDER_COLUMNS)
        columns += f", ({column(TradeOrder, 'params')} -> '{ENGINE_RECORD_KEY}' ->> 'run_id')"
        mode_clause = f" AND {column(TradeOrder, 'mode')} = %b::text" if mode is not None else ""
        with binary_cursor(binary_results=True) as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {TradeOrder._meta.db_table} WHERE client_order_id = ANY(%b::text[])"
                f"{mode_clause} ORDER BY id FOR UPDATE",
                [list(tags), *([mode] if mode is not None else [])],
            )
            rows = cursor.fetchall()
    else:
        queryset = TradeOrder.objects.select_for_update().filter(client_order_id__in=tags)
        if mode is not None:
            queryset = queryset.filter(mode=mode)
        queryset = queryset.annotate(dispatch_run=KT(RUN_ID_LOOKUP))
        rows = list(queryset.order_by("id").values_list(*_ORDER_COLUMNS, "dispatch_run"))
    return {row[1]: LockedOrder(*row) for row in rows}


def other_mode_tags(tags: set[str], mode: str | None) -> dict[str, str]:
    """Tags among `tags` that belong to an order of another mode: tag -> that order's mode."""
    if mode is None or not tags:
        return {}
    return dict(
        TradeOrder.objects.filter(client_order_id__in=tags)
        .exclude(mode=mode)
        .values_list("client_order_id", "mode")
    )
