"""A bracket's legs in LEAN: placed on the entry's fills, sized to what filled, kept one-cancels-other."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from AlgorithmImports import OrderRequestStatus, UpdateOrderFields

from .brackets import BracketGroup, BracketLeg
from .intents import Intent

if TYPE_CHECKING:
    from AlgorithmImports import OrderTicket, QCAlgorithm, Symbol


class BracketDesk:
    """The algorithm's armed brackets, by the entry's tag; every method is safe from LEAN's threads."""

    def __init__(self, algorithm: QCAlgorithm) -> None:
        self.algorithm = algorithm
        self.groups: dict[str, BracketGroup] = {}  # by the entry's tag (armed before the entry is submitted)
        self.leg_of: dict[str, str] = {}  # a leg's tag -> its entry's tag
        # A leg's order id -> the update requests that were the algorithm's resizes.
        self.resizes: dict[int, list[Any]] = {}
        self.lock = threading.RLock()

    def arm(self, symbol: Symbol, intent: Intent, properties: Any) -> None:
        """Keep the intent's legs by its tag until its fills place them (the legs trade the other side)."""
        legs = [BracketLeg(role=role, tag=tag, price=price) for role, tag, price in intent.bracket]
        with self.lock:
            self.groups[intent.tag] = BracketGroup(intent.tag, symbol, intent.quantity > 0, properties, legs)
            for leg in legs:
                self.leg_of[leg.tag] = intent.tag

    def _filled(self, order_id: int | None) -> float:
        """What an order of this run has filled (absolute), from its ticket."""
        transactions = self.algorithm.transactions
        ticket = transactions.get_order_ticket(order_id) if order_id is not None else None
        return abs(float(ticket.quantity_filled)) if ticket is not None else 0.0

    def order_event(self, tag: str, order_id: int, status: str) -> None:
        """An entry's fill sizes its legs, its cancel closes the group; a leg's fill keeps the other in step."""
        with self.lock:
            group = self.groups.get(tag)
            if group is not None:
                group.entry_id = order_id
                if status in ("PartiallyFilled", "Filled"):
                    self._size(group)
                elif status == "Canceled":
                    group.closed = True
                    for each in group.legs:
                        self._cancel(each, "Canceled with its bracket's entry")
                return
            entry_tag = self.leg_of.get(tag)
            group = self.groups.get(entry_tag) if entry_tag is not None else None
            leg = next((leg for leg in group.legs if leg.tag == tag), None) if group is not None else None
            if group is None or leg is None:
                return
            if status in ("Canceled", "Invalid"):
                leg.closed = True
            elif status in ("PartiallyFilled", "Filled"):
                self._one_cancels_other(group, leg, filled=status == "Filled")

    def _size(self, group: BracketGroup) -> None:
        """Each open leg to what the entry filled less what its sibling filled: placed, or grown."""
        entry_filled = self._filled(group.entry_id)
        sign = -1 if group.buy else 1
        for leg in group.legs:
            sibling = group.sibling(leg)
            size = entry_filled - self._filled(sibling.order_id if sibling is not None else None)
            if group.closed or leg.closed or size <= 0:
                continue
            if leg.order_id is None:
                algorithm = self.algorithm
                place = algorithm.limit_order if leg.role == "take_profit" else algorithm.stop_market_order
                ticket = place(group.symbol, sign * size, leg.price, asynchronous=True, tag=leg.tag,
                               order_properties=group.properties)  # fmt: skip
                if ticket is not None and int(ticket.order_id) > 0:
                    leg.order_id = int(ticket.order_id)
                else:
                    leg.closed = True
                continue
            ticket = self.algorithm.transactions.get_order_ticket(leg.order_id)
            if ticket is not None and abs(float(ticket.quantity)) < size:
                self._resize(ticket, sign * size)

    def _one_cancels_other(self, group: BracketGroup, leg: BracketLeg, *, filled: bool) -> None:
        """A leg's fill: cancel the sibling once nothing is left to protect, else shrink it to what is."""
        sibling = group.sibling(leg)
        if sibling is None or sibling.order_id is None or sibling.closed:
            return
        size = self._filled(group.entry_id) - self._filled(leg.order_id)
        if filled or size <= self._filled(sibling.order_id):
            self._cancel(sibling, f"one-cancels-other: the {leg.role} filled")
            return
        ticket = self.algorithm.transactions.get_order_ticket(sibling.order_id)
        if ticket is not None and abs(float(ticket.quantity)) > size:
            self._resize(ticket, (1 if float(ticket.quantity) > 0 else -1) * size)

    def _resize(self, ticket: OrderTicket, quantity: float) -> None:
        """Update a leg's quantity, remembering the request so its UpdateSubmitted line says it was a resize."""
        fields = UpdateOrderFields()
        fields.quantity = quantity
        ticket.update(fields)
        requests = list(ticket.update_requests or ())
        if requests:
            self.resizes.setdefault(int(ticket.order_id), []).append(requests[-1])

    def _cancel(self, leg: BracketLeg, reason: str) -> None:
        """Cancel a placed leg once (never placed or grown again)."""
        if leg.closed:
            return
        leg.closed = True
        transactions = self.algorithm.transactions
        ticket = transactions.get_order_ticket(leg.order_id) if leg.order_id is not None else None
        if ticket is not None:
            ticket.cancel(reason)

    def is_resize(self, order_id: int, answer: int) -> bool:
        """Whether the update the `answer`-th UpdateSubmitted of the order answers was the algorithm's resize
        (LEAN answers a ticket's sent updates in order: the same count the refused-update rule keeps)."""
        ours = self.resizes.get(order_id)
        if not ours:
            return False
        ticket = self.algorithm.transactions.get_order_ticket(order_id)
        sent = (OrderRequestStatus.PROCESSING, OrderRequestStatus.PROCESSED)
        requests = (
            [r for r in (ticket.update_requests or ()) if r.status in sent] if ticket is not None else []
        )
        return answer < len(requests) and any(requests[answer] is request for request in ours)
