"""Closing positions: one held closing order per symbol, sized to flat at its dispatch; liquidation.

A close is decided under the project lock: parallel closes of one position make one closing order. It holds
its dispatch until the cancels of the symbol's working orders are final (params.hold_until_cancels), then
takes its quantity from the project's own position at that moment (close_order_claim), so fills of the
cancelled orders that arrived in the race are included; already flat ends it CANCELED."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from orders.models import (
    CLOSED_STATUSES,
    BracketRole,
    BracketState,
    OrderStatus,
    OrderType,
    Position,
    Project,
    Side,
    TradeOrder,
)
from orders.selectors import orders_unknown, orders_working
from orders.services.audit import Actor, audit_record
from orders.services.brackets import CLOSED_BY_CLOSE, bracket_groups_close
from orders.services.orders import EngineGate, order_create_locked, order_engine_down_check
from orders.services.projects import project_lock
from orders.services.status import update_trade_orders_status
from orders.services.validation import clean_order_payload

CLOSE_ACTION = "close"
HOLD_KEY = "hold_until_cancels"
ALREADY_CLOSING = "already being closed"
ALREADY_FLAT = "already flat"


@dataclass
class CloseResult:
    """What a close or liquidation did: orders created, symbols skipped (why), warnings, cancels to send."""

    orders: list[TradeOrder] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    # Working orders whose cancel the closing orders wait for (execution.actions close and liquidate send the cancels).
    to_cancel: list[TradeOrder] = field(default_factory=list)

    def audit_detail(self, symbols: list[str]) -> dict[str, Any]:
        """What the audit log keeps of a close or liquidation of `symbols`."""
        return {
            "symbols": symbols,
            "orders": [o.client_order_id for o in self.orders],
            "skipped": self.skipped,
            "cancels": [o.client_order_id for o in self.to_cancel],
        }


def is_close_order(order: TradeOrder) -> bool:
    """A closing order: sized to flat at its dispatch, after the cancels it waits for are final."""
    return bool(order.params.get("action") == CLOSE_ACTION)


def _close_locked(
    *, project: Project, symbols: list[str], user: Any, actor: Actor | None, result: CloseResult
) -> None:
    """Create the closing orders (caller holds the project lock): one per held symbol not already closing."""
    positions = {
        p.symbol: p for p in Position.objects.filter(project=project, mode=project.mode, symbol__in=symbols)
    }
    working = list(
        orders_working(project=project).filter(mode=project.mode, symbol__in=symbols).order_by("id")
    )
    unknown = set(orders_unknown(project=project).filter(symbol__in=symbols).values_list("symbol", flat=True))
    for symbol in symbols:
        position = positions.get(symbol)
        if position is None or position.quantity == 0:
            result.skipped[symbol] = "no position"
            continue
        of_symbol = [order for order in working if order.symbol == symbol]
        if any(is_close_order(order) for order in of_symbol):
            result.skipped[symbol] = ALREADY_CLOSING
            continue
        if symbol in unknown:
            result.warnings[symbol] = (
                "an order of a dead engine run may still be live at the broker; resolve it once known"
            )
        # A bracket of the symbol is closed first: no child is sent afterwards, and the close also waits for
        # the children of its entries (one placed in the race with the entry's last fill is canceled too).
        entries = _bracket_entries(of_symbol, project=project, symbol=symbol)
        bracket_groups_close(entries=entries, reason=CLOSED_BY_CLOSE)
        children = list(
            TradeOrder.objects.filter(parent__in=entries).order_by("id").values_list("pk", flat=True)
        )
        clean = clean_order_payload(
            {
                "project_id": project.pk,
                "symbol": symbol,
                "side": Side.SELL if position.quantity > 0 else Side.BUY,
                "quantity": str(abs(position.quantity)),
                "order_type": OrderType.MKT,
                "confirm": True,
            }
        )
        created = order_create_locked(
            project=project,
            clean=clean,
            user=user,
            actor=actor,
            extra_params={
                "action": CLOSE_ACTION,
                HOLD_KEY: sorted({order.pk for order in of_symbol} | set(children)),
            },
            closing=True,
        )
        result.orders.append(created.order)
        result.to_cancel.extend(order for order in of_symbol if order not in result.to_cancel)


def _bracket_entries(orders: list[TradeOrder], *, project: Project, symbol: str) -> list[TradeOrder]:
    """The bracket entries among these orders, those of the children among them, and the symbol's finished
    entries whose group is still OPEN (a filled entry's legs tradedesk may still place), each once."""
    entries = {order.pk: order for order in orders if order.bracket_role == BracketRole.ENTRY}
    parents = {order.parent_id for order in orders if order.parent_id is not None} - set(entries)
    parents |= set(
        TradeOrder.objects.filter(
            project=project, mode=project.mode, symbol=symbol, bracket_role=BracketRole.ENTRY,
            bracket_state=BracketState.OPEN, status__in=CLOSED_STATUSES, children__status=OrderStatus.HELD,
        ).values_list("pk", flat=True)
    ) - set(entries)  # fmt: skip
    for entry in TradeOrder.objects.filter(pk__in=parents):
        entries[entry.pk] = entry
    return [entries[pk] for pk in sorted(entries)]


def positions_close(
    *,
    project: Project,
    symbols: Iterable[str],
    user: Any = None,
    actor: Actor | None = None,
    engine_down: EngineGate | None = None,
) -> CloseResult:
    """Close the named positions of the project, exactly once each, under the project lock.

    The closing orders wait for the cancels of `to_cancel`; execution.actions.project_close_positions is
    the entry point that also requests those cancels."""
    wanted = sorted({str(symbol).strip().upper() for symbol in symbols})
    result = CloseResult()
    with transaction.atomic():
        locked = project_lock(project_id=project.pk)
        order_engine_down_check(mode=locked.mode, engine_down=engine_down)
        _close_locked(project=locked, symbols=wanted, user=user, actor=actor, result=result)
        audit_record(
            actor=actor or Actor(user=user),
            action="positions_close",
            project=locked,
            detail=result.audit_detail(wanted),
        )
    return result


def positions_liquidate(
    *, project: Project, user: Any = None, actor: Actor | None = None, engine_down: EngineGate | None = None
) -> CloseResult:
    """Close every non-zero position and cancel every working order of the project, under the project lock."""
    result = CloseResult()
    with transaction.atomic():
        locked = project_lock(project_id=project.pk)
        order_engine_down_check(mode=locked.mode, engine_down=engine_down)
        symbols = list(
            Position.objects.filter(project=locked, mode=locked.mode)
            .exclude(quantity=0)
            .order_by("symbol")
            .values_list("symbol", flat=True)
        )
        _close_locked(project=locked, symbols=symbols, user=user, actor=actor, result=result)
        closing = {order.pk for order in result.orders}
        for order in orders_working(project=locked).order_by("id"):
            if order.pk not in closing and not is_close_order(order) and order not in result.to_cancel:
                result.to_cancel.append(order)
        audit_record(
            actor=actor or Actor(user=user),
            action="liquidate",
            project=locked,
            detail=result.audit_detail(symbols),
        )
    return result


def close_order_blockers(*, order: TradeOrder) -> list[TradeOrder]:
    """The orders a closing order still waits for: those it holds for that are working (unknown ones never)."""
    held = [int(pk) for pk in order.params.get(HOLD_KEY, [])]
    if not held:
        return []
    return list(orders_working().filter(pk__in=held).order_by("id"))


def close_order_claim(*, order_id: int, now: Any, attempt: int | None = None) -> TradeOrder | None:
    """Claim a NEW closing order for dispatch, sized from the project's position now; None when not to send.

    Under the project lock, then the order's: None while an order it waits for is still working, and when
    the project is already flat on the symbol (the order then ends CANCELED "already flat")."""
    with transaction.atomic():
        project_id = TradeOrder.objects.values_list("project_id", flat=True).get(pk=order_id)
        project_lock(project_id=project_id)
        order = (
            TradeOrder.objects.select_for_update(of=("self",), no_key=True)
            .select_related("project")
            .get(pk=order_id)
        )
        if order.status != OrderStatus.NEW or order.dispatched_at is not None:
            return None
        if attempt is not None and order.dispatch_attempts != attempt - 1:
            return None
        if close_order_blockers(order=order):
            return None
        position = Position.objects.filter(
            project_id=project_id, mode=order.mode, symbol=order.symbol
        ).first()
        held = position.quantity if position is not None else Decimal(0)
        side = Side.SELL if held > 0 else Side.BUY
        order.dispatched_at = now
        order.dispatch_attempts += 1
        if held == 0 or side != order.side:
            order.save(update_fields=["dispatched_at", "dispatch_attempts", "updated_at"])
            update_trade_orders_status([(order, OrderStatus.CANCELED, ALREADY_FLAT)])
            return None
        order.quantity = abs(held)
        order.save(update_fields=["quantity", "dispatched_at", "dispatch_attempts", "updated_at"])
    return order
