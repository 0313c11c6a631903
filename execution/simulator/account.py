"""The simulator's broker account: holdings that survive restarts (simulator-account.json)."""

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


class Account:
    """The simulated broker account: holdings kept across runs in simulator-account.json."""

    def __init__(self, path: Path) -> None:
        """An empty account bound to its file; load() reads it."""
        self.path = path
        self.positions: dict[str, dict[str, Decimal]] = {}

    def load(self) -> None:
        """Read the account file (an unreadable one is set aside, not silently overwritten)."""
        path = self.path
        if not path.exists():
            return
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            for symbol, pos in raw.items():
                qty, avg = parse_decimal(pos["quantity"]), parse_decimal(pos["avg_price"])
                if qty is None or avg is None:
                    raise ValueError(f"bad position for {symbol!r}")
                if qty != 0:
                    self.positions[str(symbol)] = {"quantity": qty, "avg_price": avg}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            warn(f"account file {path} unreadable ({exc}); moved to {aside.name}, starting empty")
            os.replace(path, aside)
            self.positions = {}

    def apply_fill(self, symbol: str, signed_qty: Decimal, price: float) -> None:
        """Book a fill like a broker: average price moves only when a position grows or flips."""
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
        self.save()

    def save(self) -> None:
        """Write the account atomically so a crash never leaves half a file."""
        atomic_write_json(
            self.path,
            {
                symbol: {"quantity": json_number(pos["quantity"]), "avg_price": json_number(pos["avg_price"])}
                for symbol, pos in sorted(self.positions.items())
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
