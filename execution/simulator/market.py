"""The simulator's market: a seeded random walk of prices per symbol."""

from __future__ import annotations

import random

from execution.simulator.common import (
    reference_price,
)


class PriceBook:
    """Seeded random walk per symbol: the same seed gives every symbol the same price sequence."""

    def __init__(self, seed: int | str, reference_prices: dict[str, float]) -> None:
        """Remember the seed; each symbol's walk is created on first use."""
        self._seed = seed
        self._reference = reference_prices
        self._walks: dict[str, tuple[random.Random, float]] = {}

    def start_price(self, symbol: str) -> float:
        """Where the symbol's walk starts (its previous close until the account has seen a session end)."""
        return reference_price(symbol, self._reference)

    def next_price(self, symbol: str) -> float:
        """Advance the symbol's walk one step and return the new price (the price a fill sees)."""
        # String seeds hash with SHA-512 in random.Random: stable across processes and PYTHONHASHSEED.
        rng, price = self._walks.get(symbol) or (
            random.Random(f"{self._seed}:{symbol}"),
            reference_price(symbol, self._reference),
        )
        price = max(0.01, round(price * (1 + rng.gauss(0, 0.001)), 2))
        self._walks[symbol] = (rng, price)
        return price
