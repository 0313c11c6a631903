"""The ledger: events stored once by key and folded into their orders (status rank, fill sums)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.db.bulk import (
    JsonText,
    archived_event_keys,
    insert_new_keys,
    stored_event_keys,
    update_rows,
)
from orders.models import (
    CLOSED_STATUSES,
    PRICE_PLACES,
    STATUS_RANK,
    ExecutionEvent,
    OrderFlag,
    OrderStatus,
    OrderType,
    TradeFill,
    TradeOrder,
)
from orders.services.bracket_ledger import CHILD_ROLES, bracket_event, bracket_group_tags, brackets_settle
from orders.services.ledger_events import BatchReport, LedgerEvent
from orders.services.ledger_orders import LockedOrder, lock_orders, other_mode_tags
from orders.services.modify import UPDATE_CONFIRMED_STATUS, UPDATE_FAILED_MESSAGES, orders_settle_updates
from orders.services.position_fills import PositionFill, apply_position_fills
from orders.services.trailing import trailing_stop_ratchet
from orders.services.validation import quantize
from orders.services.versions import project_versions_bump

logger = logging.getLogger("orders")


def _event_sort_key(event: LedgerEvent) -> tuple[Any, ...]:
    ts = event.time.timestamp() if event.time else float("-inf")
    return (ts, event.engine_event_id if event.engine_event_id is not None else -1, event.key)


# The columns applying events writes back to a locked order.
_ORDER_WRITTEN = (
    "status",
    "status_ts",
    "status_message",
    "last_status_ts",
    "ib_order_id",
    "filled_quantity",
    "filled_notional",
    "avg_fill_price",
    "fees",
    "flag",
    "flag_message",
    "overfilled",
    "future_event_time",
    "broker_order_id",
    "update_refused",
    "update_refused_message",
    "stop_price",
    "updated_at",
)
_EVENT_COLUMNS = (
    "event_key",
    "order",
    "tag",
    "status",
    "run_id",
    "engine_order_id",
    "engine_event_id",
    "event_time",
    "filled",
    "fill_price",
    "fee",
    "message",
    "payload",
    "outcome",
    "reason",
)
_OUTCOME = _EVENT_COLUMNS.index("outcome")
_FILL_COLUMNS = (
    "order",
    "event_key",
    "quantity",
    "price",
    "fee",
    "fee_currency",
    "filled_at",
    "run_id",
    "engine_order_id",
)


# An event dated further ahead than this is stored and flagged, but never moves an order's clocks.
FUTURE_TOLERANCE = timedelta(days=1)


def apply_engine_events(
    events: Sequence[LedgerEvent], *, source: str = "", mode: str | None = None
) -> BatchReport:
    """Store each new event once (by key) and apply the new ones to their orders, set-based, atomically.

    With `mode` (the events were read from that mode's engine file) a tag matches only an order of that
    mode; a tag of another mode's order is stored as unmatched with the reason, and that order is untouched."""
    report = BatchReport(received=len(events))
    unique: dict[str, LedgerEvent] = {}
    for event in events:
        if event.key in unique:
            report.duplicates += 1
        else:
            unique[event.key] = event
    if not unique:
        return report
    now = timezone.now()
    # No savepoint of its own inside a caller's transaction (the ingest's step has one): a failure here
    # still rolls back everything it wrote with that block, one round trip less per batch.
    with transaction.atomic(savepoint=False):
        # Keys already stored are duplicates whatever happens next; the insert below decides for the rest.
        known = stored_event_keys(list(unique))
        if known:
            report.duplicates += len(known)
            unique = {key: event for key, event in unique.items() if key not in known}
            if not unique:
                return report
        tags = {event.tag for event in unique.values()}
        # A bracket's orders are locked as one group (in id order, with the batch's), so sizing its children
        # and its one-cancels-other safety net see every member as this batch leaves it.
        orders = lock_orders(tags | bracket_group_tags(tags), mode)
        report.order_ids = {tag: order.pk for tag, order in orders.items() if tag in tags}
        by_pk = {order.pk: order for order in orders.values()}
        foreign = other_mode_tags(tags - set(orders), mode)
        future_after = now + FUTURE_TOLERANCE
        rows = []
        applied_outcome, ignored_outcome = ExecutionEvent.Outcome.APPLIED, ExecutionEvent.Outcome.IGNORED
        # Status "not applied", decided for the batch as a set: an event whose status ranks below what its
        # order holds after the batch (its current status or a higher one among the batch's events) is
        # recorded with outcome "ignored"; the fold below needs no per-event verdict (nor a log line).
        ranks = {
            event.key: STATUS_RANK.get(event.target) if event.target else None for event in unique.values()
        }
        final_rank = {tag: STATUS_RANK[order.status] for tag, order in orders.items()}
        for event in unique.values():
            rank = ranks[event.key]
            if rank is not None and rank > final_rank.get(event.tag, rank):
                final_rank[event.tag] = rank
        for event in unique.values():
            order = orders.get(event.tag)
            reason = ""
            if order is None:
                outcome = ExecutionEvent.Outcome.UNMATCHED
                if event.tag in foreign:
                    reason = f"the tag is a {foreign[event.tag]} order's; read from the {mode} engine's file"
                elif not event.tag:
                    reason = (
                        f"untagged (an order the engine reloaded from the broker): no desk order was re-homed to "
                        f"run {event.run_id} order {event.engine_order_id}"
                    )
            else:
                rank = ranks[event.key]
                outcome = (
                    ignored_outcome if rank is not None and rank < final_rank[event.tag] else applied_outcome
                )
            if event.time is not None and event.time > future_after:
                reason = reason or "event time more than a day ahead: stored, the order's clocks not moved"
            rows.append(
                (event.key, order.pk if order else None, event.tag[:200], event.status[:64],
                 event.run_id[:100], event.engine_order_id, event.engine_event_id, event.time, event.filled,
                 event.fill_price, event.fee, event.message,
                 event.payload if event.payload_text is None else JsonText(event.payload_text), outcome, reason)
            )  # fmt: skip
        # Only a closed order's events can be in the archive (it moves nothing else, under the orders' locks
        # this batch now holds): a key stored there is a duplicate, as one in the events table. Live ingest of
        # working orders sends no probe.
        closed = [row[0] for row in rows if row[1] is not None and by_pk[row[1]].status in CLOSED_STATUSES]
        archived = archived_event_keys(closed) if closed else set()
        if archived:
            rows = [row for row in rows if row[0] not in archived]
        new_keys = insert_new_keys(
            ExecutionEvent, _EVENT_COLUMNS, rows, "event_key", {"source": source[:500], "received_at": now}
        )
        report.duplicates += len(unique) - len(new_keys)
        # Outcomes are decided above for the whole batch and stored with each event; nothing is logged per
        # event (the caller logs the batch's counts once).
        by_order: dict[int, list[LedgerEvent]] = defaultdict(list)
        for row in rows:
            if row[0] not in new_keys:
                continue
            order_pk, row_outcome = row[1], row[_OUTCOME]
            if order_pk is None:  # outcome "unmatched"
                report.unmatched += 1
                continue
            report.applied += 1
            if row_outcome == ignored_outcome:
                report.ignored += 1
            by_order[order_pk].append(unique[row[0]])
        if by_order:
            _apply_to_orders(
                orders=[o for o in orders.values() if o.pk in by_order],
                by_order=by_order,
                report=report,
                future_after=future_after,
            )
    return report


def _apply_to_orders(
    *,
    orders: list[LockedOrder],
    by_order: dict[int, list[LedgerEvent]],
    report: BatchReport,
    future_after: datetime,
) -> None:
    """Fold new events into their (locked) orders: highest status wins, fills summed once, positions moved."""
    fill_rows: list[tuple[Any, ...]] = []
    fill_events: dict[str, tuple[LockedOrder, LedgerEvent]] = {}
    changed: dict[int, LockedOrder] = {}
    engine_flags = (OrderFlag.STALE, OrderFlag.COMMAND_UNREAD, OrderFlag.ENGINE_DOWN)
    for order in orders:
        events = by_order[order.pk]
        if len(events) > 1:
            events.sort(key=_event_sort_key)
        before = (order.status, order.status_message, order.last_status_ts, order.ib_order_id, order.flag,
                  order.future_event_time, order.broker_order_id, order.update_refused, order.stop_price)  # fmt: skip
        was_failed = order.status == OrderStatus.FAILED
        for event in events:
            # A time far ahead would pin the order's clocks forever: flag it and order by arrival instead.
            at = event.time
            if at is not None and at > future_after:
                order.future_event_time, at = True, None
            target = event.target_status()
            if target is None and was_failed and event.origin == "engine":
                # FAILED is tradedesk's own guess; any engine event proves the engine has the order.
                target = OrderStatus.SUBMITTED
            if event.origin == "engine":
                if event.engine_order_id is not None and (
                    order.ib_order_id is None
                    or order.last_status_ts is None
                    or (at is not None and at >= order.last_status_ts)
                ):
                    order.ib_order_id = event.engine_order_id
                if (
                    event.broker_ids
                    and event.broker_ids[0]
                    and (
                        not order.broker_order_id
                        or order.last_status_ts is None
                        or (at is not None and at >= order.last_status_ts)
                    )
                ):
                    order.broker_order_id = event.broker_ids[0][:64]
                # An event proves the engine is alive, except the dead run's own events read late: its
                # orders stay unknown until a later run reports on them or staff resolve them.
                if order.flag in engine_flags and (
                    order.flag != OrderFlag.ENGINE_DOWN
                    or (event.run_id and event.run_id != order.dispatch_run)
                ):
                    order.flag, order.flag_message = "", ""
            if event.stop_price is not None and order.order_type == OrderType.TRAIL:
                order.stop_price = trailing_stop_ratchet(
                    side=order.side, current=order.stop_price, reported=event.stop_price
                )
            if event.origin == "engine" and event.update_refused and not order.update_refused:
                # Set by the event alone (never cleared by a later one): replay and arrival order agree.
                order.update_refused = True
                order.update_refused_message = event.message[:500]
            if at is not None and (order.last_status_ts is None or at > order.last_status_ts):
                order.last_status_ts = at
            if target is not None:
                rank, current = STATUS_RANK[target], STATUS_RANK[order.status]
                later = at is not None and (order.status_ts is None or at > order.status_ts)
                if rank > current or (rank == current and later):
                    order.status = target
                    order.status_ts = at
                    order.status_message = event.message
            if event.filled is not None and event.filled > 0 and event.fill_price is not None:
                fill_rows.append(
                    (order.pk, event.key, event.filled, event.fill_price, event.fee or Decimal(0),
                     event.fee_currency[:8], event.time, event.run_id[:100], event.engine_order_id)
                )  # fmt: skip
                fill_events[event.key] = (order, event)
        after = (order.status, order.status_message, order.last_status_ts, order.ib_order_id, order.flag,
                 order.future_event_time, order.broker_order_id, order.update_refused, order.stop_price)  # fmt: skip
        if after != before:
            changed[order.pk] = order
    now = timezone.now()
    new_fill_keys = insert_new_keys(TradeFill, _FILL_COLUMNS, fill_rows, "event_key", {"created_at": now})
    applied_fills = [fill for key, fill in fill_events.items() if key in new_fill_keys]
    applied_fills.sort(key=lambda item: _event_sort_key(item[1]))
    position_fills = []
    overfilled: list[str] = []
    for order, event in applied_fills:
        assert event.filled is not None and event.fill_price is not None
        position_fills.append(
            PositionFill(order.project_id, order.mode, order.symbol, order.side, event.filled,
                         event.fill_price, event.time)
        )  # fmt: skip
        order.filled_quantity += event.filled
        order.filled_notional += event.filled * event.fill_price
        order.fees += event.fee or Decimal(0)
        order.avg_fill_price = quantize(order.filled_notional / order.filled_quantity, PRICE_PLACES)
        # A bracket child is sized from its entry's fills after the fold: brackets_settle flags it then.
        child = order.bracket_role in CHILD_ROLES
        if order.filled_quantity > order.quantity and not order.overfilled and not child:
            # The fill still counts (the contract): the flag makes the overfill visible for review.
            order.overfilled = True
            overfilled.append(order.client_order_id)
        changed[order.pk] = order
    if overfilled:
        # One line per batch (never per event): the orders that just became overfilled.
        logger.warning("overfill", extra={"orders": overfilled[:50], "count": len(overfilled)})
    report.fills += len(applied_fills)
    if changed:
        report.orders_changed.update(changed)
        update_rows(
            TradeOrder,
            _ORDER_WRITTEN,
            [
                (
                    o.pk,
                    o.status,
                    o.status_ts,
                    o.status_message,
                    o.last_status_ts,
                    o.ib_order_id,
                    o.filled_quantity,
                    o.filled_notional,
                    o.avg_fill_price,
                    o.fees,
                    o.flag,
                    o.flag_message,
                    o.overfilled,
                    o.future_event_time,
                    o.broker_order_id,
                    o.update_refused,
                    o.update_refused_message,
                    o.stop_price,
                    now,
                )
                for o in changed.values()
            ],
        )
    apply_position_fills(position_fills)
    roots = {o.parent_id or o.pk for o in orders if o.bracket_role}
    settled = brackets_settle(root_ids=roots, now=now) if roots else None
    # Pending modifies: confirmed by an UpdateSubmitted event, dropped on LEAN's update failure, the broker's
    # refusal the engine marked, or a final status.
    # Only orders read with a pending modify under their row lock can have one (no statement for the others).
    pending = [o for o in orders if o.update_pending]
    engine_events = [(o, e) for o in pending for e in by_order[o.pk] if e.origin == "engine"]
    updated = orders_settle_updates(
        confirmed={
            o.pk: o.project_id
            for o, e in engine_events
            if e.status == UPDATE_CONFIRMED_STATUS and not e.bracket_resize
        },
        dropped={
            o.pk: o.project_id
            for o, e in engine_events
            if e.update_refused or e.message.startswith(UPDATE_FAILED_MESSAGES)
        }
        | {o.pk: o.project_id for o in pending if o.status in CLOSED_STATUSES},
        now=now,
    )
    # Last, after the order and position locks: the pages' poll counters of the projects touched.
    project_versions_bump(
        {o.project_id for o in changed.values()} | updated | (settled.projects if settled else set()),
        positions={fill.project_id for fill in position_fills},
    )
    if settled is not None and settled.never_sent:
        # Children of an entry that ended without a fill: CANCELED here (their own batch, locks already held).
        apply_engine_events([bracket_event(child, message) for child, message in settled.never_sent])
