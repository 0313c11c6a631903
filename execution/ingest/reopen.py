"""The open-orders line of a new run, and the untagged events of the orders it reloaded.

At setup LEAN reloads every open IB order (Engine/Setup/BrokerageSetupHandler.cs:405,485-518@24863901),
rebuilt without the tag (the IB plugin sends none to IB: no OrderRef in InteractiveBrokersBrokerage.cs@d154917)
under the new run's order ids. The algorithm lists them after warm-up in one line (`"type": "open_orders"`,
docs/engine-contract.md section 7); each entry is re-homed to its desk order by orders.services.order_rehome
(broker id, symbol, side and quantity all agree) and recorded as an EngineOpenOrder, matched or not (why not).
Their later events carry no tag: they land on the desk order re-homed to their (run id, order id).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from django.utils import timezone

from execution.ingest.lines import BadLine, broker_ids
from execution.models import EngineOpenOrder
from orders.models import PRICE_PLACES, QTY_PLACES, SYMBOL_REGEX, TradeOrder
from orders.services import LedgerEvent, ReloadedOrder, order_rehome

SIDES = {"BUY", "SELL"}


def _decimal(value: Any, name: str, places: Decimal, *, required: bool) -> Decimal | None:
    if value is None and not required:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise BadLine(f"open order {name} is not a positive number: {value!r}"[:200])
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(places)


def parse_open_order(entry: Any, *, mode: str, run_id: str) -> ReloadedOrder:
    """One entry of an open-orders line -> ReloadedOrder, or BadLine."""
    if not isinstance(entry, dict):
        raise BadLine("open order is not a JSON object")
    order_id = entry.get("order_id")
    if isinstance(order_id, bool) or not isinstance(order_id, int) or abs(order_id) >= 2**63:
        raise BadLine(f"open order has no integer order_id: {order_id!r}"[:200])
    symbol, side = entry.get("symbol"), entry.get("side")
    if not isinstance(symbol, str) or not symbol or len(symbol) > 32:
        raise BadLine(f"open order has no symbol: {symbol!r}"[:200])
    if side not in SIDES:
        raise BadLine(f"open order side is not BUY or SELL: {side!r}"[:200])
    quantity = _decimal(entry.get("quantity"), "quantity", QTY_PLACES, required=True)
    assert quantity is not None
    return ReloadedOrder(
        mode=mode,
        run_id=run_id,
        engine_order_id=order_id,
        broker_ids=broker_ids(entry.get("broker_ids")),
        symbol=symbol,
        side=str(side),
        quantity=quantity,
        order_type=str(entry.get("order_type") or "")[:32],
        limit_price=_decimal(entry.get("limit_price"), "limit_price", PRICE_PLACES, required=False),
        stop_price=_decimal(entry.get("stop_price"), "stop_price", PRICE_PLACES, required=False),
    )


def record_open_orders(line: dict[str, Any], *, mode: str | None) -> list[EngineOpenOrder]:
    """Re-home each order of an open-orders line (in the ingest's transaction); its rows, matched or not.

    Raises BadLine for a line that breaks the contract (the batch counts it as a bad line); a line read again
    (a replay) re-homes nothing twice and keeps one row per (mode, run, order id)."""
    if mode is None:
        raise BadLine("open-orders line not usable: not in an engine's events file")
    run_id = line.get("run_id")
    orders = line.get("orders")
    if not isinstance(run_id, str) or not run_id or not isinstance(orders, list):
        raise BadLine("open-orders line needs a run_id and a list of orders")
    reloaded = [parse_open_order(entry, mode=mode, run_id=run_id[:100]) for entry in orders]
    now = timezone.now()
    rows = []
    for item in reloaded:
        valid_symbol = bool(re.match(SYMBOL_REGEX, item.symbol))
        result = order_rehome(reloaded=item) if valid_symbol else None
        outcome = (
            EngineOpenOrder.Outcome.MATCHED
            if result and result.matched
            else EngineOpenOrder.Outcome.UNMATCHED
        )
        reason = result.reason if result else f"symbol {item.symbol!r} is no desk symbol"
        row, _ = EngineOpenOrder.objects.update_or_create(
            mode=mode,
            run_id=item.run_id,
            engine_order_id=item.engine_order_id,
            defaults={
                "broker_ids": list(item.broker_ids), "symbol": item.symbol, "side": item.side,
                "quantity": item.quantity, "order_type": item.order_type, "limit_price": item.limit_price,
                "stop_price": item.stop_price, "order_id": result.order_id if result else None,
                "outcome": outcome, "reason": reason[:500], "seen_at": now,
            },
        )  # fmt: skip
        rows.append(row)
    return rows


def untagged_resolve(events: list[LedgerEvent], *, mode: str | None) -> None:
    """Give each untagged event the tag of the desk order re-homed to its (run id, order id), when there is one.

    One query per segment that has untagged events (none otherwise); an event left without a tag is stored as
    unmatched with the reason (orders/services/ledger.py)."""
    untagged = [event for event in events if not event.tag and event.engine_order_id is not None]
    if not untagged or mode is None:
        return
    runs = {event.run_id for event in untagged}
    ids = {event.engine_order_id for event in untagged}
    found = {
        (str(run), engine_id): tag
        for tag, run, engine_id in TradeOrder.objects.filter(
            mode=mode, ib_order_id__in=ids, params__manual_execution__run_id__in=runs
        ).values_list("client_order_id", "params__manual_execution__run_id", "ib_order_id")
    }
    for event in untagged:
        tag = found.get((event.run_id, event.engine_order_id))
        if tag:
            event.tag = tag
