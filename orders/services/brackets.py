"""Brackets: an entry order with a take-profit limit and/or a stop-loss stop attached, one group (issue 24).

The children are rows from the entry's commit on (HELD, with the tags tradedesk makes now), so every engine
event of theirs matches an order; the engine places them on the entry's fills, sized to what filled, and keeps
them one-cancels-other (docs/engine-contract.md section 14). The group's state is the entry's: a cancel of the
entry or a close marks it CLOSED, after which no child is sent and every working child is canceled. The ledger
sizes the children from the same sums the engine uses (orders/services/bracket_ledger.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from orders.errors import OrderValidationError
from orders.models import (
    BRACKET_CHILD_TYPES,
    WORKING_STATUSES,
    BracketRole,
    BracketState,
    OrderStatus,
    OrderType,
    Project,
    Side,
    TradeOrder,
)
from orders.services.preview import STOP_LOSS, TAKE_PROFIT, bracket_leg_price, price_reference
from orders.services.validation import CleanOrder, equity_tick

# What a child may still become: held for its entry, or working at the engine.
CHILD_OPEN_STATUSES = frozenset(WORKING_STATUSES | {OrderStatus.HELD})
CLOSED_BY_CANCEL = "the entry's cancel closed the bracket: no child is sent afterwards"
CLOSED_BY_CLOSE = "a close of the position closed the bracket: no child is sent afterwards"


@dataclass(frozen=True)
class BracketLegs:
    """The absolute prices of a bracket's children (None: that leg is not attached)."""

    take_profit: Decimal | None
    stop_loss: Decimal | None

    @property
    def any(self) -> bool:
        """At least one leg is attached."""
        return self.take_profit is not None or self.stop_loss is not None


def _entry_base(*, project: Project, clean: CleanOrder) -> Decimal | None:
    """The price offsets count from: the entry's limit (a limit or stop limit), its stop, else the market's."""
    if clean.order_type in (OrderType.LMT, OrderType.STP_LMT) and clean.limit_price is not None:
        return clean.limit_price
    if clean.stop_price is not None:
        return clean.stop_price
    reference = price_reference(project=project, symbol=clean.symbol)
    return reference.price if reference is not None else None


def bracket_legs_resolve(*, project: Project, clean: CleanOrder) -> BracketLegs:
    """The children's absolute prices (offsets counted from the entry), checked against the entry's side.

    A buy's take profit is above its entry and its stop loss below (a sell's the other way round), or the
    bracket would close at a loss on its take profit: refused with the field to blame."""
    errors: dict[str, str] = {}
    base = _entry_base(project=project, clean=clean)
    up = Decimal(1) if clean.side == Side.BUY else Decimal(-1)
    take_profit, stop_loss = clean.take_profit_price, clean.stop_loss_price
    for name, role, offset in (
        ("take_profit_offset", TAKE_PROFIT, clean.take_profit_offset),
        ("stop_loss_offset", STOP_LOSS, clean.stop_loss_offset),
    ):
        if offset is None:
            continue
        if base is None:
            errors[name] = "no entry price to count from: give an absolute price, or wait for a market price"
            continue
        price = bracket_leg_price(base=base, side=clean.side, role=role, price=None, offset=offset)
        if price is None or price <= 0:
            errors[name] = f"puts the price at {price}, not above 0"
        elif role == TAKE_PROFIT:
            take_profit = price
        else:
            stop_loss = price
    if base is not None:
        if take_profit is not None and (take_profit - base) * up <= 0:
            where = "above" if up > 0 else "below"
            errors.setdefault("take_profit_price", f"must be {where} the entry's {base} for a {clean.side}")
        if stop_loss is not None and (base - stop_loss) * up <= 0:
            where = "below" if up > 0 else "above"
            errors.setdefault("stop_loss_price", f"must be {where} the entry's {base} for a {clean.side}")
    if take_profit is not None and stop_loss is not None and (take_profit - stop_loss) * up <= 0:
        errors.setdefault("stop_loss_price", "must be on the other side of the entry from the take profit")
    for name, leg in (("take_profit_price", take_profit), ("stop_loss_price", stop_loss)):
        if leg is not None and leg % equity_tick(leg) != 0:
            errors.setdefault(name, f"must be on the tick of {equity_tick(leg)}")
    if errors:
        first = next(iter(errors.items()))
        raise OrderValidationError(f"{first[0]}: {first[1]}", errors=errors)
    return BracketLegs(take_profit=take_profit, stop_loss=stop_loss)


def _child_tag(parent_tag: str, role: str) -> str:
    """A child's tag (its client order id), made at entry: the entry's, a role suffix and a random part."""
    suffix = "tp" if role == BracketRole.TAKE_PROFIT else "sl"
    return f"{parent_tag[:48]}.{suffix}.{secrets.token_hex(3)}"


def bracket_children_create(*, entry: TradeOrder, legs: BracketLegs) -> list[TradeOrder]:
    """Create the HELD children of a new entry (in the caller's transaction): opposite side, the entry's size
    as the most they can become; the engine sizes them to what filled."""
    side = Side.SELL if entry.side == Side.BUY else Side.BUY
    children = []
    for role, price in ((BracketRole.TAKE_PROFIT, legs.take_profit), (BracketRole.STOP_LOSS, legs.stop_loss)):
        if price is None:
            continue
        order_type = BRACKET_CHILD_TYPES[role]
        children.append(
            TradeOrder.objects.create(
                client_order_id=_child_tag(entry.client_order_id, role),
                project_id=entry.project_id,
                mode=entry.mode,
                symbol=entry.symbol,
                side=side,
                quantity=entry.quantity,
                order_type=order_type,
                limit_price=price if order_type == OrderType.LMT else None,
                stop_price=price if order_type == OrderType.STP else None,
                # The group works as long as its entry asked: one ticket, one time in force (and session).
                time_in_force=entry.time_in_force,
                good_till_date=entry.good_till_date,
                outside_rth=entry.outside_rth,
                status=OrderStatus.HELD,
                params={**entry.params, "bracket_of": entry.client_order_id},
                created_by=entry.created_by,
                parent=entry,
                bracket_role=role,
            )
        )
    return children


def bracket_children(entry: TradeOrder) -> list[TradeOrder]:
    """The entry's children, take profit first."""
    return sorted(entry.children.all(), key=lambda child: child.bracket_role != BracketRole.TAKE_PROFIT)


def bracket_payload(entry: TradeOrder) -> dict[str, Any] | None:
    """The bracket an engine receives with its entry (intent and order command), or None for a plain order:
    each child's tag, side-signed nothing (the engine sizes it from the entry's fills) and price."""
    if entry.bracket_role != BracketRole.ENTRY:
        return None
    legs: dict[str, Any] = {}
    for child in bracket_children(entry):
        price = child.limit_price if child.bracket_role == BracketRole.TAKE_PROFIT else child.stop_price
        key = "take_profit" if child.bracket_role == BracketRole.TAKE_PROFIT else "stop_loss"
        legs[key] = {"tag": child.client_order_id, "price": price}
    return legs or None


def bracket_groups_close(*, entries: Iterable[TradeOrder], reason: str) -> list[TradeOrder]:
    """Mark the OPEN groups of these entries CLOSED (the caller holds the project lock): no child is sent
    afterwards. Returns the children still working, whose cancels the caller requests."""
    ids = [entry.pk for entry in entries if entry.bracket_role == BracketRole.ENTRY]
    if not ids:
        return []
    TradeOrder.objects.filter(pk__in=ids, bracket_state=BracketState.OPEN).update(
        bracket_state=BracketState.CLOSED, bracket_message=reason[:500], updated_at=timezone.now()
    )
    return list(
        TradeOrder.objects.filter(parent_id__in=ids, status__in=WORKING_STATUSES)
        .select_related("project")
        .order_by("id")
    )


def bracket_working_slots(working: QuerySet[TradeOrder]) -> int:
    """How many working orders count toward the limit: two one-cancels-other siblings count once.

    A stop loss whose take profit is also working is the second sibling; children still HELD count as one
    order of their group (what the bracket can become) while their entry works."""
    # One statement where no bracket works (the usual case, on every order placed): the groups' two counts
    # only when there is an entry or a child to count.
    counts = working.aggregate(
        plain=Count("pk", filter=Q(parent__isnull=True)),
        children=Count("pk", filter=Q(parent__isnull=False)),
        entries=Count("pk", filter=Q(bracket_role=BracketRole.ENTRY)),
    )
    held = pairs = 0
    if counts["entries"]:
        entries = working.filter(bracket_role=BracketRole.ENTRY).values("pk")
        held = (
            TradeOrder.objects.filter(parent_id__in=entries, status=OrderStatus.HELD)
            .values("parent_id")
            .distinct()
            .count()
        )
    if counts["children"]:
        pairs = (
            working.filter(parent__isnull=False)
            .filter(
                bracket_role=BracketRole.STOP_LOSS,
                parent__children__bracket_role=BracketRole.TAKE_PROFIT,
                parent__children__status__in=WORKING_STATUSES,
            )
            .count()
        )
    return int(counts["plain"]) + held + int(counts["children"]) - pairs


def bracket_pending_reduction(working: QuerySet[TradeOrder]) -> Decimal:
    """What these working orders may still trade, siblings once (the larger remainder of the two)."""
    total = Decimal(0)
    groups: dict[int, Decimal] = {}
    for parent_id, quantity, filled in working.values_list("parent_id", "quantity", "filled_quantity"):
        if parent_id is None:
            total += quantity - filled
        else:
            groups[parent_id] = max(groups.get(parent_id, Decimal(0)), quantity - filled)
    return total + sum(groups.values(), Decimal(0))


def bracket_children_q() -> Q:
    """The filter of bracket children (never dispatched by tradedesk: the engine places them)."""
    return Q(parent__isnull=False)
