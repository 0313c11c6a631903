"""The ledger's bracket step: children sized from their entry's fills, tradedesk's one-cancels-other safety net.

Runs in the ingest's transaction after a batch is folded, with every order of the touched groups locked (the
batch locks whole groups: bracket_group_tags). Each size is a function of sums (the entry's filled quantity,
the sibling's), so replay and arrival order give the same rows, as for statuses and fills.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.db.bulk import binary_cursor, postgresql
from orders.models import (
    BRACKET_OVERFILL_TEXT,
    CLOSED_STATUSES,
    BracketRole,
    BracketState,
    OrderStatus,
    TradeOrder,
)
from orders.services.audit import audit_record
from orders.services.bracket_desk import bracket_desk_holds
from orders.services.ledger_events import LedgerEvent

logger = logging.getLogger("orders")

CHILD_ROLES = frozenset({BracketRole.TAKE_PROFIT, BracketRole.STOP_LOSS})
# Working and not already being canceled: a child the safety net may still cancel.
_CANCELABLE = (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
NEVER_SENT = "never sent: the bracket's entry ended {status} without a fill"
SIBLING_FILLED = "one-cancels-other: the {role} filled"
GROUP_CLOSED = "the bracket was closed: no child works afterwards"


def bracket_group_tags(tags: set[str]) -> set[str]:
    """The tags of every order in the bracket groups these tags belong to (empty when none is a bracket's)."""
    if not tags:
        return set()
    if postgresql():
        # The ingest's hot path: one probe of the tags' index, in binary (no IN list of thousands of
        # parameters to compile); the group's members are read only when a tag is a bracket's.
        with binary_cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT COALESCE(parent_id, id) FROM {TradeOrder._meta.db_table} "
                "WHERE client_order_id = ANY(%b::text[]) AND bracket_role <> ''",
                [list(tags)],
            )
            roots = [row[0] for row in cursor.fetchall()]
            if not roots:
                return set()
            cursor.execute(
                f"SELECT client_order_id FROM {TradeOrder._meta.db_table} "
                "WHERE id = ANY(%b::int8[]) OR parent_id = ANY(%b::int8[])",
                [roots, roots],
            )
            return {row[0] for row in cursor.fetchall()}
    root_ids = (
        TradeOrder.objects.filter(client_order_id__in=tags)
        .exclude(bracket_role="")
        .annotate(root=Coalesce("parent_id", "id"))
        .values("root")
    )
    return set(
        TradeOrder.objects.filter(Q(pk__in=root_ids) | Q(parent_id__in=root_ids)).values_list(
            "client_order_id", flat=True
        )
    )


def bracket_event(child: TradeOrder, message: str) -> LedgerEvent:
    """tradedesk's CANCELED event of a child it never let the engine send (keyed by its JSON and a nonce)."""
    at = timezone.now()
    payload = {"tag": child.client_order_id, "status": OrderStatus.CANCELED, "origin": "tradedesk",
               "time": at.isoformat(), "message": message, "nonce": uuid.uuid4().hex}  # fmt: skip
    key = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return LedgerEvent(
        key=key, tag=child.client_order_id, status=OrderStatus.CANCELED, payload=payload, origin="tradedesk",
        target=OrderStatus.CANCELED, time=at, message=message,
    )  # fmt: skip


@dataclass
class BracketSettle:
    """What the step did: HELD children to cancel here (never sent), projects whose rows changed."""

    never_sent: list[tuple[TradeOrder, str]] = field(default_factory=list)
    projects: set[int] = field(default_factory=set)
    cancels_requested: list[int] = field(default_factory=list)


def _sized(child: TradeOrder, *, entry_filled: Decimal, sibling: TradeOrder | None) -> Decimal | None:
    """The child's size now: what its entry filled less what its sibling filled (never below its own fills);
    None when it keeps its size (nothing filled yet, or an overfilled child, whose size stays as reported)."""
    if entry_filled <= 0 or child.overfilled:
        return None
    size = max(entry_filled - (sibling.filled_quantity if sibling is not None else Decimal(0)),
               child.filled_quantity)  # fmt: skip
    return size if size > 0 else None


def _cancel_reason(entry: TradeOrder, child: TradeOrder, sibling: TradeOrder | None) -> str:
    if child.status not in _CANCELABLE or child.cancel_requested_at is not None:
        return ""
    if entry.bracket_state == BracketState.CLOSED:
        return GROUP_CLOSED
    if sibling is not None and sibling.status == OrderStatus.FILLED:
        return SIBLING_FILLED.format(role=sibling.get_bracket_role_display().lower())
    return ""


def brackets_settle(*, root_ids: set[int], now: datetime) -> BracketSettle:
    """Size the children of these entries, flag overfilled groups and request the cancels the engine's
    one-cancels-other should have made (the engine host sends them after the batch)."""
    result = BracketSettle()
    members: dict[int, list[TradeOrder]] = defaultdict(list)
    rows = TradeOrder.objects.filter(Q(pk__in=root_ids) | Q(parent_id__in=root_ids)).order_by("id")
    for row in rows.select_related("project"):
        members[row.parent_id or row.pk].append(row)
    for root, group in members.items():
        entry = next((row for row in group if row.pk == root), None)
        if entry is None or entry.bracket_role != BracketRole.ENTRY:
            continue
        children = [row for row in group if row.pk != root]
        _settle_group(entry, children, now=now, result=result)
    return result


def _settle_group(
    entry: TradeOrder, children: list[TradeOrder], *, now: datetime, result: BracketSettle
) -> None:
    touched = False
    # A group no engine run holds (a member re-homed): its sent legs keep the size they have at the broker
    # until tradedesk's resize is confirmed (orders/services/bracket_desk.py), so a later re-homing matches.
    desk_holds = bracket_desk_holds([entry, *children])
    for child in children:
        sibling = next((row for row in children if row.pk != child.pk), None)
        held = child.status == OrderStatus.HELD
        if held and entry.status in CLOSED_STATUSES and entry.filled_quantity == 0:
            result.never_sent.append((child, NEVER_SENT.format(status=entry.status)))
            continue
        if held and desk_holds and entry.bracket_state == BracketState.CLOSED:
            # No run will place it (none holds the group) and tradedesk places none of a closed group.
            result.never_sent.append((child, GROUP_CLOSED))
            continue
        updates: dict[str, object] = {}
        unsent = held or (child.status == OrderStatus.NEW and child.dispatched_at is None)
        if child.status not in CLOSED_STATUSES and (unsent or not desk_holds):
            size = _sized(child, entry_filled=entry.filled_quantity, sibling=sibling)
            if size is not None and size != child.quantity:
                updates["quantity"] = child.quantity = size
        if child.filled_quantity > child.quantity and not child.overfilled:
            updates["overfilled"] = child.overfilled = True
        reason = _cancel_reason(entry, child, sibling)
        if reason:
            updates.update(cancel_requested_at=now, cancel_requested_by=None, cancel_sent_at=None)
            child.cancel_requested_at = now
            result.cancels_requested.append(child.pk)
            audit_record(
                actor=None, action="order_cancel_requested", project=child.project, order=child,
                detail={"reason": reason, "bracket": entry.client_order_id},
            )  # fmt: skip
        if updates:
            TradeOrder.objects.filter(pk=child.pk).update(**updates, updated_at=now)
            touched = True
    children_filled = sum((child.filled_quantity for child in children), Decimal(0))
    if children_filled > entry.filled_quantity and not entry.bracket_overfilled:
        # Both legs filled (the engine's one-cancels-other lost a race): the position went past flat.
        TradeOrder.objects.filter(pk=entry.pk).update(
            bracket_overfilled=True, bracket_message=str(BRACKET_OVERFILL_TEXT), updated_at=now
        )
        logger.warning(
            "bracket overfill",
            extra={"bracket": entry.client_order_id, "entry_filled": str(entry.filled_quantity),
                   "children_filled": str(children_filled)},
        )  # fmt: skip
        touched = True
    if touched:
        result.projects.add(entry.project_id)
