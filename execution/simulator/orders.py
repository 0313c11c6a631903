"""One simulated order: its fill schedule, its time in force, and what the simulated broker keeps of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from execution.contract import market_hours
from execution.simulator.common import WORKING, json_number

# Types that wait for a price to be touched before they work (a stop's stop, a limit if touched's trigger).
TRIGGERED_TYPES = frozenset({"StopMarket", "StopLimit", "TrailingStop", "LimitIfTouched"})
# LEAN's TimeInForce names (the order command's) -> tradedesk's, which the simulator keeps.
TIME_IN_FORCE_FROM_LEAN = {"day": "DAY", "goodtilcanceled": "GTC", "goodtildate": "GTD"}
TIME_IN_FORCES = ("DAY", "GTC", "GTD")


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
    time_in_force: str = "GTC"  # LEAN's default when a command names none (OrderProperties.cs:40-43@24863901)
    good_till_date: date | None = None
    outside_rth: bool = False
    expires_at: datetime | None = None  # when the broker cancels it (DAY: the close; GTD: its date's close)

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
            "time_in_force": self.time_in_force,
            "good_till_date": self.good_till_date.isoformat() if self.good_till_date else None,
            "outside_rth": self.outside_rth,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], *, order_id: int, next_attempt: float) -> Order:
        """A working order the broker kept, reloaded untagged under this run's `order_id`."""
        good_till = record.get("good_till_date")
        expires = record.get("expires_at")
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
            # A file written before time in force was kept: its orders were placed as LEAN's default, GTC.
            time_in_force=str(record.get("time_in_force") or "GTC"),
            good_till_date=date.fromisoformat(good_till) if good_till else None,
            outside_rth=bool(record.get("outside_rth")),
            expires_at=datetime.fromisoformat(expires) if expires else None,
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

    def may_fill(self, *, now: datetime, hours: str) -> bool:
        """Whether the order may trigger or fill now: its session (regular, or extended when outside RTH)."""
        return market_hours.order_may_fill(now=now, hours=hours, outside_rth=self.outside_rth)

    def set_expiry(self, *, placed_at: datetime, hours: str) -> None:
        """When the broker will cancel the order (a resting one: market orders fill or wait for the open, a market
        on close fills at its close, after the regular session that would end a DAY order)."""
        if self.order_type not in ("Market", "MarketOnOpen", "MarketOnClose"):
            self.expires_at = market_hours.order_expiry(
                placed_at=placed_at,
                time_in_force=self.time_in_force,
                good_till_date=self.good_till_date,
                outside_rth=self.outside_rth,
                hours=hours,
            )

    def expiry_message(self) -> str:
        """The reason of the broker's cancel at the expiry."""
        return market_hours.expiry_message(time_in_force=self.time_in_force, outside_rth=self.outside_rth)

    def expired(self, now: datetime) -> bool:
        """Whether the broker's expiry of the order (its time in force) has come."""
        return self.expires_at is not None and now >= self.expires_at


def order_properties(
    time_in_force: Any, good_till_date: Any, outside_rth: Any
) -> tuple[str, date | None, bool, str]:
    """(time in force, GTD date, outside RTH, error) from a command's or intent's values, either vocabulary."""
    text = str(time_in_force or "").strip()
    tif = TIME_IN_FORCE_FROM_LEAN.get(text.lower(), text.upper())
    if tif not in TIME_IN_FORCES:
        return (
            "GTC",
            None,
            False,
            f"Time in force {time_in_force!r} is not supported (Day, GoodTilCanceled, GoodTilDate)",
        )
    day: date | None = None
    if tif == "GTD":
        try:
            day = date.fromisoformat(str(good_till_date)[:10])
        except ValueError:
            return tif, None, False, f"GoodTilDate order needs an expiry date, got {good_till_date!r}"
    return tif, day, outside_rth is True, ""
