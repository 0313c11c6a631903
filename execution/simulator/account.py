"""The simulator's broker account: holdings and a cash book that survive restarts (simulator-account.json),
and the account snapshot (account.json) it writes beside prices.json."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution.simulator.common import (
    QTY_PLACES,
    atomic_write_json,
    json_number,
    parse_decimal,
    warn,
)

ACCOUNT_CURRENCY = "USD"
# LEAN's margin account on IB: an equity's leverage is 2 (Common/Brokerages/DefaultBrokerageModel.cs:184-185
# @24863901deffa9ec7985e21ef8fbdb0258efb9e4, used by InteractiveBrokersBrokerageModel.cs:140), so a
# position's margin is half its absolute value (SecurityMarginModel's initial margin requirement 1/leverage).
EQUITY_LEVERAGE = Decimal(2)
MONEY_PLACES = Decimal("0.01")


class Account:
    """The simulated broker account: holdings and cash per currency, kept across runs in their file."""

    def __init__(self, path: Path, *, starting_cash: Decimal = Decimal(0)) -> None:
        """An empty account bound to its file, with the cash a fresh account starts with; load() reads it."""
        self.path = path
        self.starting_cash = starting_cash
        self.positions: dict[str, dict[str, Decimal]] = {}
        self.cash: dict[str, Decimal] = {ACCOUNT_CURRENCY: starting_cash}
        # The previous session's closing price per symbol and the session it belongs to (day P&L).
        self.session = ""
        self.previous_close: dict[str, Decimal] = {}

    def load(self) -> None:
        """Read the account file (an unreadable one is set aside, not silently overwritten).

        The file is {"positions": {...}, "cash": {...}, "session": ..., "previous_close": {...}}; a file of an
        older simulator is just the positions (symbol keys) and starts with the configured cash."""
        path = self.path
        if not path.exists():
            return
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            positions = raw.get("positions", raw)  # an older simulator's file is just the positions
            for symbol, pos in positions.items():
                qty, avg = parse_decimal(pos["quantity"]), parse_decimal(pos["avg_price"])
                if qty is None or avg is None:
                    raise ValueError(f"bad position for {symbol!r}")
                if qty != 0:
                    self.positions[str(symbol)] = {"quantity": qty, "avg_price": avg}
            if "cash" in raw:
                cash = {str(code): parse_decimal(amount) for code, amount in raw["cash"].items()}
                if any(amount is None for amount in cash.values()):
                    raise ValueError("bad cash amount")
                self.cash = {code: amount for code, amount in cash.items() if amount is not None}
            self.session = str(raw.get("session") or "")
            closes = {str(s): parse_decimal(p) for s, p in (raw.get("previous_close") or {}).items()}
            self.previous_close = {s: p for s, p in closes.items() if p is not None and p > 0}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            warn(f"account file {path} unreadable ({exc}); moved to {aside.name}, starting empty")
            os.replace(path, aside)
            self.positions = {}
            self.cash = {ACCOUNT_CURRENCY: self.starting_cash}
            self.session, self.previous_close = "", {}

    def apply_fill(self, symbol: str, signed_qty: Decimal, price: float, fee: float = 0.0) -> None:
        """Book a fill like a broker: average price moves only when a position grows or flips; cash pays for
        a buy, receives a sale's proceeds and pays the fee."""
        pos = self.positions.get(symbol, {"quantity": Decimal(0), "avg_price": Decimal(0)})
        old_qty, old_avg, px = pos["quantity"], pos["avg_price"], Decimal(str(price))
        new_qty = old_qty + signed_qty
        if new_qty == 0:
            self.positions.pop(symbol, None)
        else:
            if old_qty == 0 or (old_qty > 0) != (new_qty > 0):
                avg = px  # opened or flipped: the new position's cost is this fill
            elif abs(new_qty) > abs(old_qty):
                avg = (old_avg * abs(old_qty) + px * abs(signed_qty)) / abs(new_qty)
            else:
                avg = old_avg  # reducing keeps the cost of what remains
            self.positions[symbol] = {"quantity": new_qty, "avg_price": avg.quantize(QTY_PLACES)}
        cash = self.cash.get(ACCOUNT_CURRENCY, Decimal(0))
        self.cash[ACCOUNT_CURRENCY] = cash - signed_qty * px - Decimal(str(fee))
        self.save()

    def roll_session(self, session: str, prices: dict[str, float]) -> bool:
        """At a new session, the last prices become the previous closes (day P&L resets); True if it rolled."""
        if session == self.session:
            return False
        if self.session:  # the first session the account sees keeps the walks' starting prices
            for symbol, price in prices.items():
                self.previous_close[symbol] = Decimal(str(price))
        self.session = session
        self.save()
        return True

    def save(self) -> None:
        """Write the account atomically so a crash never leaves half a file."""
        atomic_write_json(
            self.path,
            {
                "positions": {
                    symbol: {
                        "quantity": json_number(pos["quantity"]),
                        "avg_price": json_number(pos["avg_price"]),
                    }
                    for symbol, pos in sorted(self.positions.items())
                },
                "cash": {code: json_number(amount) for code, amount in sorted(self.cash.items())},
                "session": self.session,
                "previous_close": {s: json_number(p) for s, p in sorted(self.previous_close.items())},
            },
        )

    def holdings(self) -> list[dict[str, Any]]:
        """Holdings in the contract's holdings-line shape, sorted by symbol."""
        return [
            {
                "symbol": symbol,
                "quantity": json_number(pos["quantity"]),
                "avg_price": json_number(pos["avg_price"]),
            }
            for symbol, pos in sorted(self.positions.items())
        ]

    def snapshot(self, *, run_id: str, time: str, prices: dict[str, float]) -> dict[str, Any]:
        """The account snapshot (account.json) valued at `prices` (a held symbol without one at its cost):
        LEAN's names, computed the way SecurityPortfolioManager does (docs/engine-contract-prices.md)."""
        holdings_value = unrealized = margin = Decimal(0)
        for symbol, pos in self.positions.items():
            price = Decimal(str(prices[symbol])) if symbol in prices else pos["avg_price"]
            value = price * pos["quantity"]
            holdings_value += value
            unrealized += (price - pos["avg_price"]) * pos["quantity"]
            margin += abs(value) / EQUITY_LEVERAGE
        cash_total = sum(self.cash.values(), Decimal(0))  # one currency: conversion rate 1
        net_liquidation = cash_total + holdings_value  # TotalPortfolioValue
        return {
            "run_id": run_id,
            "time": time,
            "currency": ACCOUNT_CURRENCY,
            "cash": [
                {"currency": code, "amount": json_number(amount.quantize(MONEY_PLACES))}
                for code, amount in sorted(self.cash.items())
            ],
            "net_liquidation": json_number(net_liquidation.quantize(MONEY_PLACES)),
            "total_margin_used": json_number(margin.quantize(MONEY_PLACES)),
            # MarginRemaining = TotalPortfolioValue - unsettled cash (none here) - TotalMarginUsed
            "buying_power": json_number((net_liquidation - margin).quantize(MONEY_PLACES)),
            "unrealized_pnl": json_number(unrealized.quantize(MONEY_PLACES)),
        }
