"""The simulator's brackets: children placed on the entry's fills, sized to what filled, one-cancels-other.

As the LEAN algorithm does (execution/lean/manual_order_execution.py), at once on the fill's own event: a fill
of the entry places the children for what filled, or grows them (an UpdateSubmitted marked `bracket_resize`);
a child's fill cancels its sibling when it completes the group and shrinks it when partial; a cancel of the
entry cancels its working children and closes the group, and a canceled child is never placed or grown again
(docs/engine-contract.md section 14).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from execution.simulator.common import log, parse_decimal

if TYPE_CHECKING:  # types only: the book owns its Brackets and hands itself in (book imports this module)
    from execution.simulator.book import Order, OrderBook

ROLES = ("take_profit", "stop_loss")
LEG_TYPES = {"take_profit": ("Limit", "limit_price"), "stop_loss": ("StopMarket", "stop_price")}


@dataclass
class Leg:
    """One child of a bracket: its tag and price, and its order once placed."""

    role: str
    tag: str
    price: Decimal
    order_id: int | None = None
    closed: bool = False  # canceled (or never to be placed): not placed, not grown


@dataclass
class Group:
    """A bracket of this run: its entry's order id and its legs."""

    entry_id: int
    legs: dict[str, Leg] = field(default_factory=dict)
    closed: bool = False  # the entry was canceled: no child is placed afterwards


def parse_bracket(raw: Any) -> tuple[dict[str, Leg], str]:
    """The legs of an intent's `bracket` or a command's `Bracket` (an object or its JSON text; {} when none),
    or an error."""
    if raw in (None, {}, ""):
        return {}, ""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}, f"Bracket is not JSON: {raw[:80]!r}"
    if not isinstance(raw, dict):
        return {}, f"Bracket must be an object, got {raw!r}"[:200]
    raw = {str(key).lower().replace("_", ""): value for key, value in raw.items()}
    legs = {}
    for role in ROLES:
        spec = raw.get(role.replace("_", ""))
        if spec is None:
            continue
        if not isinstance(spec, dict):
            return {}, f"Bracket {role} must be an object"
        spec = {str(key).lower().replace("_", ""): value for key, value in spec.items()}
        price = parse_decimal(spec.get(LEG_TYPES[role][1].replace("_", "")))
        tag = spec.get("tag")
        if not isinstance(tag, str) or not tag or price is None or price <= 0:
            return {}, f"Bracket {role} needs a tag and a positive {LEG_TYPES[role][1]}"
        legs[role] = Leg(role=role, tag=tag, price=price)
    return legs, ""


class Brackets:
    """The run's bracket groups, driven by the book's fill and cancel events."""

    def __init__(self, book: OrderBook) -> None:
        """No groups yet (a restart forgets them, as LEAN's algorithm does: tradedesk is the safety net)."""
        self.book = book
        self.groups: dict[int, Group] = {}
        self.child_of: dict[int, int] = {}  # child order id -> entry order id

    def arm(self, entry_id: int, legs: dict[str, Leg]) -> None:
        """Attach the legs to a placed entry."""
        if legs:
            self.groups[entry_id] = Group(entry_id=entry_id, legs=legs)

    def on_fill(self, order: Order) -> None:
        """After a fill event of `order`: size the group's children (entry) or keep them OCO (child)."""
        if order.order_id in self.groups:
            self._size(self.groups[order.order_id])
        entry_id = self.child_of.get(order.order_id)
        if entry_id is not None:
            self._one_cancels_other(self.groups[entry_id], order)

    def on_cancel(self, order: Order) -> None:
        """After a cancel of `order`: an entry closes its group and cancels its children; a child is closed."""
        group = self.groups.get(order.order_id)
        if group is not None:
            group.closed = True
            for leg in group.legs.values():
                leg.closed = True
                child = self.book.orders.get(leg.order_id) if leg.order_id is not None else None
                if child is not None and child.working:
                    self.book.cancel_order(child.order_id, message="Canceled with its bracket's entry")
        entry_id = self.child_of.get(order.order_id)
        if entry_id is not None:
            for leg in self.groups[entry_id].legs.values():
                if leg.order_id == order.order_id:
                    leg.closed = True

    def _filled(self, leg: Leg | None) -> Decimal:
        if leg is None or leg.order_id is None:
            return Decimal(0)
        return abs(self.book.orders[leg.order_id].filled)

    def _sibling(self, group: Group, leg: Leg) -> Leg | None:
        return next((other for other in group.legs.values() if other is not leg), None)

    def _size(self, group: Group) -> None:
        """Each open leg to what the entry filled less what its sibling filled: placed, or grown."""
        entry = self.book.orders[group.entry_id]
        filled = abs(entry.filled)
        sign = Decimal(-1) if entry.quantity > 0 else Decimal(1)  # the children trade the other side
        for leg in group.legs.values():
            size = filled - self._filled(self._sibling(group, leg))
            if leg.closed or group.closed or size <= 0:
                continue
            if leg.order_id is None:
                order_type, price_key = LEG_TYPES[leg.role]
                prices = {price_key: leg.price}
                ok, _message = self.book.place_order(
                    leg.tag,
                    entry.symbol,
                    sign * size,
                    order_type,
                    prices.get("limit_price"),
                    stop_price=prices.get("stop_price"),
                    # The children work as long as their entry (its time in force and session).
                    properties=(entry.time_in_force, entry.good_till_date, entry.outside_rth, ""),
                )
                if ok:
                    leg.order_id = self.book.next_order_id - 1
                    self.child_of[leg.order_id] = group.entry_id
                else:
                    leg.closed = True
                continue
            child = self.book.orders[leg.order_id]
            if child.working and size > abs(child.quantity):
                self.book.update_order(child.order_id, sign * size, None, None, bracket_resize=True)

    def _one_cancels_other(self, group: Group, child: Order) -> None:
        """A child's fill: cancel the sibling once the group's filled part is protected no more, else shrink it."""
        leg = next(leg for leg in group.legs.values() if leg.order_id == child.order_id)
        sibling = self._sibling(group, leg)
        if sibling is None or sibling.order_id is None or sibling.closed:
            return
        other = self.book.orders[sibling.order_id]
        if not other.working:
            return
        entry = self.book.orders[group.entry_id]
        size = abs(entry.filled) - abs(child.filled)
        if not child.working or size <= abs(other.filled):
            sibling.closed = True
            self.book.cancel_order(other.order_id, message=f"one-cancels-other: the {leg.role} filled")
            log(f"bracket of order {group.entry_id}: {leg.role} filled, {sibling.role} canceled")
            return
        sign = Decimal(1) if other.quantity > 0 else Decimal(-1)
        if size < abs(other.quantity):
            self.book.update_order(other.order_id, sign * size, None, None, bracket_resize=True)
