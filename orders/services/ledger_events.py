"""The ledger's vocabulary: one event for an order, and what applying a batch did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from orders.models import STATUS_RANK


@dataclass(slots=True)
class LedgerEvent:
    """One event for an order: a line of an engine's events file, or a change tradedesk records itself."""

    key: str
    tag: str
    status: str  # as received (a LEAN status name for an engine's event), stored as is
    payload: dict[str, Any]
    origin: str = "engine"  # "engine" or "tradedesk"
    target: str | None = None  # the tradedesk status this event asks for; None changes no status
    run_id: str = ""
    engine_order_id: int | None = None
    engine_event_id: int | None = None
    time: datetime | None = None
    filled: Decimal | None = None
    fill_price: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str = ""
    message: str = ""
    # The broker's order ids the engine reports on the line (LEAN's Order.BrokerId): the order keeps the first.
    broker_ids: tuple[str, ...] = ()
    # The engine marked this Invalid event as its broker's refusal of an update it had in flight (IB emits
    # Invalid for the order itself: IB plugin InteractiveBrokersBrokerage.cs:2235-2259@d154917): the order
    # keeps its status and is flagged, the pending update is dropped.
    update_refused: bool = False
    # The engine marked this UpdateSubmitted event as its own resize of a bracket child (to what the entry
    # filled): it never confirms a trader's pending modify (the resize is exempt from the one-update rule).
    bracket_resize: bool = False
    # A trailing stop's current stop (the line's `stop_price`: LEAN's OrderEvent.StopPrice, "the current stop
    # price", Common/Orders/OrderEvent.cs:128-143@24863901); None on other lines.
    stop_price: Decimal | None = None
    # The payload's JSON text as received, when it decodes to exactly `payload`: stored without dumping it again.
    payload_text: str | None = None

    def target_status(self) -> str | None:
        """The tradedesk status this event asks for, or None."""
        return self.target if self.target in STATUS_RANK else None


@dataclass
class BatchReport:
    """What applying one batch did."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0
    ignored: int = 0
    fills: int = 0
    orders_changed: set[int] = field(default_factory=set)
    # The orders the batch's new events matched (locked): tag -> id, so callers need no lookup of their own.
    order_ids: dict[str, int] = field(default_factory=dict)
