"""Fills -> positions: average cost, realised P&L, flips; position rows locked in id order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, models
from django.utils import timezone

from orders.db.bulk import binary_cursor, column, postgresql, update_rows
from orders.models import (
    PRICE_PLACES,
    Position,
    Side,
)
from orders.services.validation import quantize

# Every concrete column of Position, in model order (what Position.from_db expects).
_POSITION_COLUMNS = tuple(field.attname for field in Position._meta.concrete_fields)
_POSITION_WRITTEN = ("quantity", "avg_cost", "realized_pnl", "last_fill_price", "last_fill_at", "updated_at")


def lock_positions(keys: set[tuple[int, str, str]], now: datetime) -> dict[tuple[int, str, str], Position]:
    """Create missing positions, then lock every one of `keys` in id order: key -> position."""
    ordered = sorted(keys)
    if postgresql():
        table = Position._meta.db_table
        projects, modes, symbols = ([key[i] for key in ordered] for i in range(3))
        with binary_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} "
                "(project_id, mode, symbol, quantity, avg_cost, realized_pnl, updated_at) "
                "SELECT v.*, 0, 0, 0, %b::timestamptz FROM unnest(%b::bigint[], %b::text[], %b::text[]) AS v "
                "ON CONFLICT DO NOTHING",
                [now, projects, modes, symbols],
            )
            cursor.execute(
                f"SELECT {', '.join(column(Position, name) for name in _POSITION_COLUMNS)} FROM {table} "
                "WHERE (project_id, mode, symbol) IN "
                "(SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[])) ORDER BY id FOR UPDATE",
                [projects, modes, symbols],
            )
            rows = cursor.fetchall()
        found = [Position.from_db(connection.alias, list(_POSITION_COLUMNS), row) for row in rows]
    else:
        Position.objects.bulk_create(
            [Position(project_id=p, mode=m, symbol=s) for p, m, s in ordered], ignore_conflicts=True
        )
        condition = models.Q()
        for project_id, mode, symbol in ordered:
            condition |= models.Q(project_id=project_id, mode=mode, symbol=symbol)
        found = list(Position.objects.select_for_update().filter(condition).order_by("id"))
    return {(p.project_id, p.mode, p.symbol): p for p in found}


@dataclass(frozen=True, slots=True)
class PositionFill:
    """One applied fill as the book sees it."""

    project_id: int
    mode: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    at: datetime | None


def apply_position_fills(fills: Sequence[PositionFill]) -> None:
    """Move each fill's position in the given (event-time) order, locking the position rows."""
    if not fills:
        return
    now = timezone.now()
    positions = lock_positions({(f.project_id, f.mode, f.symbol) for f in fills}, now)
    for fill in fills:
        position = positions[(fill.project_id, fill.mode, fill.symbol)]
        position_add_fill(position, side=fill.side, quantity=fill.quantity, price=fill.price, at=fill.at)
    update_rows(
        Position,
        _POSITION_WRITTEN,
        [
            (p.pk, p.quantity, p.avg_cost, p.realized_pnl, p.last_fill_price, p.last_fill_at, now)
            for p in positions.values()
        ],
    )


def position_add_fill(
    position: Position, *, side: str, quantity: Decimal, price: Decimal, at: datetime | None
) -> None:
    """Average cost grows with same-direction fills; a reducing fill realises P&L; a flip restarts cost."""
    held = position.quantity
    delta = quantity if side == Side.BUY else -quantity
    if held == 0 or (held > 0) == (delta > 0):
        total = abs(held) + abs(delta)
        position.avg_cost = quantize(
            (abs(held) * position.avg_cost + abs(delta) * price) / total, PRICE_PLACES
        )
        position.quantity = held + delta
    else:
        closing = min(abs(delta), abs(held))
        direction = 1 if held > 0 else -1
        position.realized_pnl += closing * (price - position.avg_cost) * direction
        position.quantity = held + delta
        if position.quantity == 0:
            position.avg_cost = Decimal(0)
        elif (position.quantity > 0) != (held > 0):
            position.avg_cost = price
    position.last_fill_price = price
    if at is not None and (position.last_fill_at is None or at >= position.last_fill_at):
        position.last_fill_at = at
