"""Re-homing: a working order a new engine run reloaded from the broker becomes that run's order again.

The IB plugin never sends the order's tag to IB (no OrderRef in InteractiveBrokersBrokerage.cs at
QuantConnect/Lean.Brokerages.InteractiveBrokers@d154917), and at setup LEAN reloads every open IB order
(Engine/Setup/BrokerageSetupHandler.cs:405,485-518@24863901) rebuilt without a tag (ConvertOrder,
InteractiveBrokersBrokerage.cs:3245-3370@d154917) under a new run's order id. What identifies it is the
broker's id (Order.BrokerId, Common/Orders/Order.cs:68@24863901; set from IB's order id,
InteractiveBrokersBrokerage.cs:3365 for a reloaded order, :1604-1607 for a new one). IB reuses order ids after a
gateway restart and gives orders placed in TWS negative ids (:572), and LEAN carries no permanent id (PermId),
so a reloaded order is attached only to the one working desk order of its mode whose broker id, symbol, side
and quantity all agree; anything else is left unmatched, with the reason, never attached.

`order_rehome` is the one call that does it (the open-orders line of the ingest uses it; bracket children
rely on it across restarts): under the project's and the order's lock, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.models import WORKING_STATUSES, OrderFlag, TradeOrder, engine_record_merged
from orders.services.audit import audit_record
from orders.services.projects import project_lock
from orders.services.versions import project_versions_bump_for_orders

# Flags that said no live run held the order: a run that reloaded it holds it now.
_HOLDER_FLAGS = (OrderFlag.ENGINE_DOWN, OrderFlag.STALE, OrderFlag.COMMAND_UNREAD)


@dataclass(frozen=True)
class ReloadedOrder:
    """One open order a new engine run reloaded from the broker (an entry of its open-orders line)."""

    mode: str
    run_id: str
    engine_order_id: int
    broker_ids: tuple[str, ...]
    symbol: str
    side: str  # BUY | SELL
    quantity: Decimal  # the order's total, > 0
    order_type: str = ""
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass(frozen=True)
class RehomeResult:
    """What re-homing did: the desk order it attached to, or None and why not."""

    order_id: int | None
    client_order_id: str = ""
    reason: str = ""
    previous_run_id: str = ""
    previous_engine_order_id: int | None = None

    @property
    def matched(self) -> bool:
        """True when the reloaded order belongs to a desk order (now, or already)."""
        return self.order_id is not None


def _ids(reloaded: ReloadedOrder) -> str:
    return ", ".join(reloaded.broker_ids)


def _unmatched_reason(reloaded: ReloadedOrder, candidates: list[TradeOrder], exact: list[TradeOrder]) -> str:
    if len(exact) > 1:
        names = ", ".join(order.client_order_id for order in exact)
        return f"broker id {_ids(reloaded)}, symbol, side and quantity agree with {len(exact)} desk orders ({names})"
    if candidates:
        order = candidates[0]
        return (
            f"broker id {_ids(reloaded)} is desk order {order.client_order_id}'s, but its symbol, side or "
            f"quantity differ ({order.side} {order.quantity.normalize():f} {order.symbol} on the desk, "
            f"{reloaded.side} {reloaded.quantity.normalize():f} {reloaded.symbol} at the broker): IB reuses "
            "order ids after a gateway restart, so it is not attached"
        )
    return (
        f"no working {reloaded.mode} desk order has broker id {_ids(reloaded)}: placed outside the desk "
        "(TWS, another client) or already final here"
    )


def _candidates(reloaded: ReloadedOrder, *, lock: bool) -> list[TradeOrder]:
    queryset = TradeOrder.objects.filter(
        mode=reloaded.mode, broker_order_id__in=list(reloaded.broker_ids), status__in=WORKING_STATUSES
    ).order_by("pk")
    if lock:
        queryset = queryset.select_for_update(of=("self",), no_key=True)
    return list(queryset.select_related("project"))


def order_rehome(*, reloaded: ReloadedOrder) -> RehomeResult:
    """Attach a reloaded order to its working desk order (broker id, symbol, side, quantity all agree).

    The desk order then belongs to the new run: its run id and engine order id are the reloaded order's, so
    cancels and modifies address the new run, its later events land on it (tagged or not) and its engine
    flags clear. Idempotent: an order already re-homed to this run and id answers matched again."""
    if not reloaded.broker_ids or not any(reloaded.broker_ids):
        return RehomeResult(
            order_id=None, reason="no broker id: a reloaded order is never attached without one"
        )
    with transaction.atomic():
        # Lock order as everywhere: the projects (in id order), then the orders.
        for project_id in sorted({order.project_id for order in _candidates(reloaded, lock=False)}):
            project_lock(project_id=project_id)
        candidates = _candidates(reloaded, lock=True)
        exact = [
            order
            for order in candidates
            if order.symbol == reloaded.symbol
            and order.side == reloaded.side
            and order.quantity == reloaded.quantity
        ]
        if len(exact) != 1:
            return RehomeResult(order_id=None, reason=_unmatched_reason(reloaded, candidates, exact))
        order = exact[0]
        previous_run = order.engine_record.run_id
        previous_id = order.ib_order_id
        if previous_run == reloaded.run_id and previous_id == reloaded.engine_order_id:
            return RehomeResult(order.pk, order.client_order_id, "", previous_run, previous_id)
        now = timezone.now()
        rehomed = {"run_id": previous_run, "engine_order_id": previous_id, "at": now.isoformat()}
        changes: dict[str, Any] = {
            "params": engine_record_merged(
                order.params, {"run_id": reloaded.run_id, "rehomed_from": rehomed}
            ),
            "ib_order_id": reloaded.engine_order_id,
            "updated_at": now,
        }
        if order.flag in _HOLDER_FLAGS:
            changes.update(flag="", flag_message="")
        if order.cancel_sent_at is not None:
            # The old run never carried it out (the broker still has the order open): send it to this run.
            changes["cancel_sent_at"] = None
        TradeOrder.objects.filter(pk=order.pk).update(**changes)
        project_versions_bump_for_orders([order.pk])
        audit_record(
            actor=None, action="order_rehomed", project=order.project, order=order,
            detail={"from_run_id": previous_run, "from_engine_order_id": previous_id,
                    "to_run_id": reloaded.run_id, "to_engine_order_id": reloaded.engine_order_id,
                    "broker_ids": list(reloaded.broker_ids)},
        )  # fmt: skip
    return RehomeResult(order.pk, order.client_order_id, "", previous_run, previous_id)
