"""One order of the simulator's book: what it holds, what the simulated broker keeps of it, how it reads."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from execution.simulator.common import WORKING, json_number

# Types that wait for a price to be touched before they work (a stop's stop, a limit if touched's trigger).
TRIGGERED_TYPES = frozenset({"StopMarket", "StopLimit", "TrailingStop", "LimitIfTouched"})


@dataclass
class Order:
    """One order of this run and its fill schedule."""

    order_id: int
    tag: str
    symbol: str
    quantity: Decimal  # signed: BUY positive, SELL negative
    order_type: str  # a LEAN OrderType name of SUPPORTED_ORDER_TYPES
    limit_price: float | None
    parts: list[Decimal]  # remaining absolute fill sizes
    next_attempt: float  # monotonic time of the next fill attempt
    status: str = "Submitted"
    stop_price: float | None = None  # a trailing stop's current stop
    # A stop's stop (a limit if touched's trigger) was reached: it now works as a market / limit order.
    triggered: bool = False
    trailing_amount: float | None = None  # LEAN's: a percent as its fraction (0.05 is 5 %)
    trailing_as_percent: bool = False
    trigger_price: float | None = None
    close_at: str = ""  # a market on close: the close it fills at (UTC ISO 8601)
    filled: Decimal = Decimal(0)  # signed running total
    last_event_id: int = 0
    broker_id: int | None = None  # the simulated broker's order id (IB's), kept across restarts

    def broker_record(self) -> dict[str, Any]:
        """What the simulated broker keeps of a working order (BROKER_ORDERS_FILE)."""
        return {
            "broker_id": self.broker_id,
            "symbol": self.symbol,
            "quantity": str(self.quantity),
            "order_type": self.order_type,
            "limit_price": self.limit_price,
            "stop_price": self.stop_price,
            "triggered": self.triggered,
            "trailing_amount": self.trailing_amount,
            "trailing_as_percent": self.trailing_as_percent,
            "trigger_price": self.trigger_price,
            "close_at": self.close_at,
            "filled": str(self.filled),
            "parts": [str(part) for part in self.parts],
        }

    @classmethod
    def from_broker_record(cls, record: dict[str, Any], *, order_id: int, next_attempt: float) -> Order:
        """A working order the simulated broker kept (broker_record), reloaded untagged by a new run."""
        return cls(
            order_id=order_id,
            tag="",
            symbol=str(record["symbol"]),
            quantity=Decimal(record["quantity"]),
            order_type=str(record["order_type"]),
            limit_price=record.get("limit_price"),
            parts=[Decimal(part) for part in record.get("parts") or []],
            next_attempt=next_attempt,
            stop_price=record.get("stop_price"),
            triggered=bool(record.get("triggered")),
            trailing_amount=record.get("trailing_amount"),
            trailing_as_percent=bool(record.get("trailing_as_percent")),
            trigger_price=record.get("trigger_price"),
            close_at=str(record.get("close_at") or ""),
            filled=Decimal(record.get("filled") or 0),
            broker_id=int(record["broker_id"]),
        )

    @property
    def working(self) -> bool:
        """Still able to fill or be canceled."""
        return self.status in WORKING

    def describe(self) -> str:
        """An order as the log and the command's answer name it: type, side, quantity, symbol, prices."""
        side = "BUY" if self.quantity > 0 else "SELL"
        prices = "".join(
            f" {name} {value}"
            for name, value in (
                ("trigger", self.trigger_price),
                ("stop", self.stop_price),
                ("trail", self.trailing_amount),
                ("@", self.limit_price),
            )
            if value is not None
        )
        return f"{self.order_type} {side} {json_number(abs(self.quantity))} {self.symbol}{prices}"
