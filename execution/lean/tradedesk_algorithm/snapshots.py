"""The prices and account snapshots beside the events file, replaced whole."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from .lines import json_number, utc_iso

# The engine folder's names (execution/contract/folder.py; LEAN loads the algorithm alone, so it keeps a copy
# that tests/execution/contract/test_folder.py holds to the contract's).
PRICES_FILE = "prices.json"
ACCOUNT_FILE = "account.json"
DEFAULT_PRICES_INTERVAL = 2.0


def prices_snapshot(
    *,
    run_id: str,
    quotes: Iterable[tuple[str, Any, Any, Any]],
    time: Any = None,
    previous_closes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The prices file's content: (symbol, last, bid, ask) per symbol, sorted; symbols without a last price
    are left out, a bid or ask LEAN does not have (0) is null; `previous_close` where one is known."""
    prices = []
    for symbol, last, bid, ask in quotes:
        last_number = json_number(last)
        if last_number is None or last_number <= 0:
            continue
        entry: dict[str, Any] = {"symbol": str(symbol), "last": last_number}
        for key, value in (("bid", bid), ("ask", ask)):
            number = json_number(value)
            entry[key] = number if number is not None and number > 0 else None
        close = json_number((previous_closes or {}).get(str(symbol)))
        if close is not None and close > 0:
            entry["previous_close"] = close
        prices.append(entry)
    prices.sort(key=lambda item: item["symbol"])
    return {"run_id": run_id, "time": utc_iso(time), "prices": prices}


def account_snapshot(
    *,
    run_id: str,
    time: Any,
    currency: str,
    cash: Iterable[tuple[str, Any]],
    net_liquidation: Any,
    buying_power: Any,
    total_margin_used: Any,
    unrealized_pnl: Any,
) -> dict[str, Any]:
    """The account file's content from LEAN's portfolio (names: Common/Securities/SecurityPortfolioManager.cs
    @24863901deffa9ec7985e21ef8fbdb0258efb9e4): `CashBook` (77) per currency with `Cash.Amount`, its
    `AccountCurrency` (CashBook.cs:45), `TotalPortfolioValue` (430) as net liquidation, `MarginRemaining` (580)
    as buying power, `TotalMarginUsed` (562), `TotalUnrealizedProfit` (418). Amounts to the cent; a number
    LEAN cannot give as a finite one makes the whole snapshot unwritable (ValueError), never a guess."""

    def cents(value: Any) -> int | float:
        number = json_number(value)
        if number is None:
            raise ValueError(f"account amount {value!r} is not a finite number")
        return json_number(round(float(number), 2)) or 0

    balances = [
        {"currency": str(code).upper(), "amount": cents(amount)}
        for code, amount in cash
        if json_number(amount) is not None
    ]
    return {
        "run_id": run_id,
        "time": utc_iso(time),
        "currency": str(currency).upper(),
        "cash": sorted(balances, key=lambda item: item["currency"]),
        "net_liquidation": cents(net_liquidation),
        "total_margin_used": cents(total_margin_used),
        "buying_power": cents(buying_power),
        "unrealized_pnl": cents(unrealized_pnl),
    }


def last_close(history: Any) -> float | None:
    """The last `close` of a daily history frame (QCAlgorithm.History(type, symbol, periods, resolution):
    Algorithm/QCAlgorithm.Python.cs:1192@24863901deffa9ec7985e21ef8fbdb0258efb9e4, a pandas DataFrame); None
    when it has none."""
    try:
        closes = history["close"]
        values = list(closes.values if hasattr(closes, "values") else closes)
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    number = json_number(values[-1]) if values else None
    return float(number) if number is not None and number > 0 else None


def replace_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to a hidden temp file beside `path`, then rename it over `path` (readers see whole files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    os.replace(tmp, path)


def prices_interval(raw: str | None) -> timedelta:
    """The prices-interval parameter (seconds, at least 1); a missing or bad value is the default."""
    try:
        seconds = float(raw or DEFAULT_PRICES_INTERVAL)
    except ValueError:
        seconds = DEFAULT_PRICES_INTERVAL
    if not math.isfinite(seconds):
        seconds = DEFAULT_PRICES_INTERVAL
    return timedelta(seconds=max(1.0, seconds))
