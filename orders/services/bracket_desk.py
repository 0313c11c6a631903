"""tradedesk places and sizes a bracket's legs when no engine run holds the group (after a restart).

An engine arms a group in memory when it submits the entry (the simulator's Brackets, the LEAN algorithm's
_brackets) and no run re-arms one: a group one of whose orders was re-homed to a later run (its record has
`rehomed_from`, orders.services.rehome) is held by no engine. From then on tradedesk is the one side that
places a leg (the HELD row becomes NEW and goes the dispatch path, with its tag) and sizes it (a pending update
with the leg's new quantity, sent by the engine host as an update command); the run that armed the group has
ended, so the two never both act. Each decision is made under the group's row locks in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from orders.models import ENGINE_RECORD_KEY, BracketRole, BracketState, OrderStatus, TradeOrder
from orders.services.audit import audit_record
from orders.services.projects import project_lock
from orders.services.versions import project_versions_bump_for_orders

_SENT = (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
_OPEN_LEG = (OrderStatus.HELD, OrderStatus.NEW, *_SENT)
REHOMED = "rehomed_from"


def bracket_desk_holds(group: list[TradeOrder]) -> bool:
    """Whether tradedesk holds this group: one of its orders was re-homed to a run that never armed it."""
    return any(order.engine_record.data.get(REHOMED) for order in group)


def bracket_leg_size(entry: TradeOrder, leg: TradeOrder, sibling: TradeOrder | None) -> Decimal:
    """What the leg should be at the broker: the entry's fills less the sibling's (never below its own)."""
    sibling_filled = sibling.filled_quantity if sibling is not None else Decimal(0)
    return max(entry.filled_quantity - sibling_filled, leg.filled_quantity)


@dataclass
class DeskLegs:
    """What one pass decided: legs to dispatch (NEW now) and legs whose resize is now pending."""

    dispatch: list[int] = field(default_factory=list)
    resize: list[TradeOrder] = field(default_factory=list)
    never_sent: list[TradeOrder] = field(default_factory=list)  # HELD legs of a closed group: CANCELED here


def _candidates(mode: str) -> list[tuple[int, int]]:
    """(project id, entry id) of groups with a member re-homed: OPEN with a fill and a leg still to place or
    size, or CLOSED with a leg still HELD."""
    open_leg = TradeOrder.objects.filter(parent_id=OuterRef("pk"), status__in=_OPEN_LEG)
    held_leg = TradeOrder.objects.filter(parent_id=OuterRef("pk"), status=OrderStatus.HELD)
    rehomed = TradeOrder.objects.filter(
        Q(pk=OuterRef("pk")) | Q(parent_id=OuterRef("pk")), params__manual_execution__has_key=REHOMED
    )
    return list(
        TradeOrder.objects.filter(mode=mode, bracket_role=BracketRole.ENTRY)
        .filter(
            Q(Exists(open_leg), bracket_state=BracketState.OPEN, filled_quantity__gt=0)
            | Q(Exists(held_leg), bracket_state=BracketState.CLOSED)
        )
        .filter(Exists(rehomed))
        .order_by("id")
        .values_list("project_id", "pk")
    )


def bracket_desk_legs(*, mode: str, run_id: str | None) -> DeskLegs:
    """Place the HELD legs and size the sent ones of every group tradedesk holds (see the module's text).

    `run_id` is the mode's running engine run (None: none runs): only a leg that run holds is resized."""
    result = DeskLegs()
    for project_id, entry_id in _candidates(mode):
        with transaction.atomic():
            # Lock order as everywhere: the project, then the group's orders in id order.
            project_lock(project_id=project_id)
            group = list(
                TradeOrder.objects.select_for_update(no_key=True)
                .filter(Q(pk=entry_id) | Q(parent_id=entry_id))
                .order_by("id")
            )
            _decide(group, run_id=run_id, result=result)
    return result


def _decide(group: list[TradeOrder], *, run_id: str | None, result: DeskLegs) -> None:
    entry = next(order for order in group if order.bracket_role == BracketRole.ENTRY)
    legs = [order for order in group if order.pk != entry.pk]
    if not bracket_desk_holds(group):
        return
    if entry.bracket_state == BracketState.CLOSED:
        result.never_sent.extend(leg for leg in legs if leg.status == OrderStatus.HELD)
        return
    if entry.filled_quantity <= 0:
        return
    now = timezone.now()
    changed = []
    for leg in legs:
        sibling = next((other for other in legs if other.pk != leg.pk), None)
        if sibling is not None and sibling.status == OrderStatus.FILLED:
            continue  # the safety net cancels this one (bracket_ledger): never placed or grown
        size = bracket_leg_size(entry, leg, sibling)
        if leg.status == OrderStatus.HELD and size > 0:
            # Its own dispatch from here: the entry's hand-over record (copied onto it) and claim are not its.
            params = {key: value for key, value in leg.params.items() if key != ENGINE_RECORD_KEY}
            TradeOrder.objects.filter(pk=leg.pk).update(
                status=OrderStatus.NEW, quantity=size, dispatched_at=None, updated_at=now,
                params={**params, "bracket_placed_by": "tradedesk"},
            )  # fmt: skip
            result.dispatch.append(leg.pk)
            changed.append(leg.pk)
            audit_record(
                actor=None, action="bracket_leg_placed", project=entry.project, order=leg,
                detail={"bracket": entry.client_order_id, "quantity": str(size),
                        "reason": "no engine run holds the group: tradedesk places the leg"},
            )  # fmt: skip
        elif leg.status == OrderStatus.NEW and leg.dispatched_at is None and size != leg.quantity:
            TradeOrder.objects.filter(pk=leg.pk).update(quantity=size, updated_at=now)
            changed.append(leg.pk)
        elif (
            leg.status in _SENT
            and size != leg.quantity
            and size > leg.filled_quantity
            and leg.ib_order_id is not None
            and not leg.update_pending
            and leg.cancel_requested_at is None
            and not leg.is_unknown
            and run_id is not None
            and leg.engine_record.run_id == run_id
        ):
            TradeOrder.objects.filter(pk=leg.pk).update(
                update_pending=True, update_requested_at=now, update_quantity=size, update_limit_price=None,
                update_stop_price=None, update_trigger_price=None, update_trailing_amount=None,
                updated_at=now,
            )  # fmt: skip
            leg.update_quantity = size
            result.resize.append(leg)
            changed.append(leg.pk)
            audit_record(
                actor=None, action="bracket_leg_resize", project=entry.project, order=leg,
                detail={"bracket": entry.client_order_id, "quantity": str(size)},
            )  # fmt: skip
    if changed:
        project_versions_bump_for_orders(changed)
