"""The demo door: seeded positions booked into the simulator's broker account too."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from execution.engine import process as engines
from execution.simulator import ACCOUNT_FILE, Account


def simulator_account_add(*, mode: str, fills: list[tuple[str, Decimal, Decimal]]) -> None:
    """Book demo fills (symbol, signed quantity, price) into the simulator's broker account, so its holdings
    lines agree with positions that were seeded rather than traded."""
    path = engines.engine_dir(mode) / ACCOUNT_FILE
    # The cash a fresh simulated account starts with (the engine's simulator.starting-cash) pays for them.
    account = Account(path, starting_cash=settings.TRADEDESK_SIM_STARTING_CASH)
    account.path.parent.mkdir(parents=True, exist_ok=True)
    account.load()
    for symbol, quantity, price in fills:
        account.apply_fill(symbol, quantity, float(price))
