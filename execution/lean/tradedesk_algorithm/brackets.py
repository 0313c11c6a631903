"""A bracket's legs as the algorithm keeps them one-cancels-other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The mark on the UpdateSubmitted line of the algorithm's own resize of a leg (execution/contract/messages.py).
BRACKET_RESIZE_KEY = "bracket_resize"


@dataclass
class BracketLeg:
    """One leg of an armed bracket: placed (its order id) on the entry's first fill, closed once canceled."""

    role: str
    tag: str
    price: float
    order_id: int | None = None
    closed: bool = False


@dataclass
class BracketGroup:
    """A bracket the algorithm keeps one-cancels-other: its entry's tag, symbol, side, properties and legs."""

    entry_tag: str
    symbol: Any
    buy: bool
    properties: Any
    legs: list[BracketLeg]
    entry_id: int | None = None
    closed: bool = False

    def sibling(self, leg: BracketLeg) -> BracketLeg | None:
        """The other leg, when the bracket has two."""
        return next((other for other in self.legs if other is not leg), None)
