"""The engines' account snapshots (account.json beside prices.json): the IB login's cash, buying power, net
liquidation, margin used and unrealised P&L, read through the prices snapshot's reader. Not event lines:
nothing here writes to the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from execution.engine import process as engines
from execution.ingest.prices import snapshot_read

MONEY_PLACES = Decimal("0.01")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# The account's numbers (LEAN's SecurityPortfolioManager names in docs/engine-contract-prices.md).
AMOUNT_FIELDS = ("net_liquidation", "buying_power", "total_margin_used", "unrealized_pnl")


@dataclass(frozen=True)
class CashBalance:
    """Cash in one currency."""

    currency: str
    amount: Decimal


@dataclass(frozen=True)
class AccountSnapshot:
    """An engine's account file: when it was taken, and the account's balances in its currency."""

    run_id: str
    time: datetime
    currency: str
    cash: tuple[CashBalance, ...]
    net_liquidation: Decimal
    buying_power: Decimal
    total_margin_used: Decimal
    unrealized_pnl: Decimal
    version: str  # changes whenever the file is replaced

    def is_stale(self, *, now: datetime | None = None) -> bool:
        """True when the snapshot is older than TRADEDESK_PRICE_STALE_SECONDS (the prices' rule)."""
        age = (now or timezone.now()) - self.time
        return age > timedelta(seconds=settings.TRADEDESK_PRICE_STALE_SECONDS)

    @property
    def cash_total(self) -> Decimal:
        """Cash in the account's currency (the snapshot's other currencies are listed, not converted)."""
        return sum((c.amount for c in self.cash if c.currency == self.currency), Decimal(0))


def account_path(mode: str) -> Path:
    """Where the mode's engine keeps its account snapshot (beside prices.json)."""
    return engines.engine_folder(mode).account_snapshot


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        return None
    return number.quantize(MONEY_PLACES)


def parse_account(data: Any, *, version: str = "") -> AccountSnapshot | None:
    """A decoded account file -> AccountSnapshot; None when it is not one (a number missing or not finite,
    a bad time or currency). Cash entries that break the shape are skipped."""
    if not isinstance(data, dict) or not isinstance(data.get("time"), str):
        return None
    try:
        moment = datetime.fromisoformat(data["time"])
    except ValueError:
        return None
    currency = data.get("currency")
    if not isinstance(currency, str) or not CURRENCY_RE.fullmatch(currency):
        return None
    amounts = {name: _amount(data.get(name)) for name in AMOUNT_FIELDS}
    if any(amount is None for amount in amounts.values()):
        return None
    cash = []
    for entry in data.get("cash") or []:
        if not isinstance(entry, dict):
            continue
        code, amount = entry.get("currency"), _amount(entry.get("amount"))
        if isinstance(code, str) and CURRENCY_RE.fullmatch(code) and amount is not None:
            cash.append(CashBalance(currency=code, amount=amount))
    return AccountSnapshot(
        run_id=str(data.get("run_id") or ""),
        time=(moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC),
        currency=currency,
        cash=tuple(sorted(cash, key=lambda c: c.currency)),
        version=version,
        **{name: amount for name, amount in amounts.items() if amount is not None},
    )


def account_snapshot(mode: str) -> AccountSnapshot | None:
    """The mode's account snapshot: the same stat-cached reader as the prices."""
    return snapshot_read(account_path(mode), parse_account)


def fresh_buying_power(mode: str) -> Decimal | None:
    """The mode's account's buying power when its snapshot is fresh (the risk check's and preview's source)."""
    snapshot = account_snapshot(mode)
    if snapshot is None or snapshot.is_stale():
        return None
    return snapshot.buying_power
