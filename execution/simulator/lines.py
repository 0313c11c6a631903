"""The simulator's lines: the events file (engine, holdings, order event and open-orders lines) and the
prices and account snapshot files beside it."""

from __future__ import annotations

import math
import os
import time
from decimal import Decimal
from typing import Any

from execution.contract import market_hours
from execution.contract.folder import ACCOUNT_SNAPSHOT_FILE, PRICES_FILE
from execution.simulator.account import Account
from execution.simulator.common import (
    ENGINE_NAME,
    atomic_write_json,
    encode_line,
    fee_for,
    json_number,
    log,
    open_events_for_append,
    split_holdings_line,
    utc_now_iso,
)
from execution.simulator.config import SimulatorConfig
from execution.simulator.market import PriceBook
from execution.simulator.orders import Order


class EventLines:
    """What the engine writes; OrderBook (book.py) holds the state the lines are made of."""

    config: SimulatorConfig
    prices: PriceBook
    account: Account
    followed: set[str]
    orders: dict[int, Order]
    subscribed: set[str]
    last_activity: float
    next_holdings: float
    holdings_snapshots: int
    next_prices: float

    def append_line(self, payload: dict[str, Any]) -> None:
        """Append one JSON line with a single write, opening the file each time so a replaced file is used."""
        data = encode_line(payload)
        # Unbuffered append: the whole line goes to the OS in one write() and is visible at once.
        with open_events_for_append(self.config.events_file) as handle:
            written = handle.write(data)
            while written is not None and written < len(data):  # a short write is rare but possible
                more = handle.write(data[written:])
                written += more or 0

    def close_torn_line(self) -> None:
        """Close a line torn by a crashed run, so it cannot swallow this run's first line."""
        path = self.config.events_file
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.stat().st_size == 0:
            return
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            last = handle.read(1)
        if last != b"\n":
            log(f"events file {path.name} ends in a torn line; closing it with a newline")
            with open_events_for_append(path) as handle:
                handle.write(b"\n")

    def engine_line(self, status: str, **extra: Any) -> None:
        """A lifecycle line (no tag, so tradedesk never mistakes it for an order event)."""
        self.append_line(
            {
                "type": "engine",
                "status": status,
                "run_id": self.config.run_id,
                "time": utc_now_iso(),
                "engine": ENGINE_NAME,
                "pid": os.getpid(),
                **extra,
            }
        )

    def holdings_line(self) -> None:
        """The account's holdings, for tradedesk's reconciliation against its ledger (in parts over the cap)."""
        self.holdings_snapshots += 1
        line = {
            "type": "holdings",
            "run_id": self.config.run_id,
            "time": utc_now_iso(),
            "holdings": self.account.holdings(),
        }
        try:
            parts = split_holdings_line(
                line, snapshot=self.holdings_snapshots, max_line_bytes=self.config.max_line_bytes
            )
        except ValueError as exc:
            self.engine_line("error", message=f"holdings: {exc}")
            parts = []
        for part in parts:
            self.append_line(part)
        # A non-positive interval means "at start only" rather than a line at every poll.
        interval = self.config.holdings_interval
        self.next_holdings = time.monotonic() + interval if interval > 0 else math.inf

    def prices_snapshot(self) -> None:
        """Replace prices.json (one step of the walk of each held symbol, each working order's symbol and each
        followed one) and then account.json, valued at those prices."""
        symbols = (
            set(self.account.positions)
            | {o.symbol for o in self.orders.values() if o.working}
            | self.followed
            | self.subscribed
        )
        now = market_hours.clock(self.config.clock)
        walked = {symbol: self.prices.next_price(symbol) for symbol in sorted(symbols)}
        # A new trading day (New York): the prices at its start become the previous closes.
        self.account.roll_session(market_hours.session_day(now).isoformat(), walked)
        prices = []
        for symbol, last in walked.items():
            bid, ask = max(0.01, round(last - 0.01, 2)), round(last + 0.01, 2)
            previous = self.account.previous_close.get(symbol)
            close = float(previous) if previous is not None else self.prices.start_price(symbol)
            prices.append(
                {"symbol": symbol, "last": last, "bid": bid, "ask": ask, "previous_close": json_number(close)}
            )
        stamp = utc_now_iso()
        workdir = self.config.events_file.parent
        atomic_write_json(
            workdir / PRICES_FILE, {"run_id": self.config.run_id, "time": stamp, "prices": prices}
        )
        snapshot = self.account.snapshot(run_id=self.config.run_id, time=stamp, prices=walked)
        atomic_write_json(workdir / ACCOUNT_SNAPSHOT_FILE, snapshot)
        self.next_prices = time.monotonic() + self.config.prices_interval

    def order_event(
        self,
        order_id: int,
        tag: str,
        symbol: str,
        status: str,
        event_id: int,
        *,
        filled: Decimal = Decimal(0),
        fill_price: float = 0.0,
        message: str = "",
        broker_ids: list[str] | None = None,
        stop_price: float | None = None,
        bracket_resize: bool = False,
    ) -> None:
        """One order event line in exactly the contract's fields (a trailing stop's adds its current stop,
        `bracket_resize` only on a bracket resize)."""
        fee = fee_for(filled) if filled > 0 else 0
        marks = {} if stop_price is None else {"stop_price": json_number(stop_price)}
        if bracket_resize:
            marks["bracket_resize"] = True
        self.append_line(
            {
                "tag": tag,
                "status": status,
                "order_id": order_id,
                "event_id": event_id,
                "run_id": self.config.run_id,
                "symbol": symbol,
                "time": utc_now_iso(),
                "filled": json_number(filled),
                "fill_price": json_number(fill_price),
                "fee": fee,
                "fee_currency": "USD",
                "message": message,
                "broker_ids": broker_ids or [],
                **marks,
            }
        )
        self.last_activity = time.monotonic()

    def open_orders_line(self, orders: list[Order]) -> None:
        """The open-orders line of this run's start (docs/engine-contract.md section 7), as the algorithm's."""
        self.append_line(
            {
                "type": "open_orders",
                "run_id": self.config.run_id,
                "time": utc_now_iso(),
                "orders": [
                    {
                        "order_id": order.order_id,
                        "broker_ids": [str(order.broker_id)],
                        "symbol": order.symbol,
                        "side": "BUY" if order.quantity > 0 else "SELL",
                        "quantity": json_number(abs(order.quantity)),
                        "order_type": order.order_type,
                        "limit_price": order.limit_price,
                        "stop_price": order.stop_price,
                        "tag": order.tag,
                    }
                    for order in orders
                ],
            }
        )
