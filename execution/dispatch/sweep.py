"""The sweep: orders lost between the click and the engine go back on the path (or are flagged); dead engines
are recorded; held closing orders are released once their cancels are final."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from execution.contract import market_hours
from execution.dispatch.cancels import orders_cancel
from execution.dispatch.handover import _intent_path
from execution.engine import process as engines
from execution.engine.preflight import note_failed_start
from orders.models import (
    Mode,
    OrderFlag,
    OrderStatus,
    OrderType,
    TradeOrder,
)
from orders.selectors import orders_working_of_run
from orders.services import (
    CLOSE_ACTION,
    Actor,
    close_order_blockers,
    trade_order_release_claim,
    trade_orders_flag,
)


def engines_check(*, modes: Iterable[str] = engines.MODES) -> list[engines.EngineState]:
    """Each mode's engine state; working orders of a run that died are flagged ENGINE_DOWN."""
    states = []
    for mode in modes:
        state = engines.engine_state(mode)
        if state.state == "error":
            note_failed_start(mode=mode, state=state)
            state = engines.engine_state(mode)
        states.append(state)
        # A run that crashed, or that LEAN ended itself on a brokerage message: nobody reports its orders' fills.
        if (state.state == "error" or state.ended_by) and state.run_id:
            ids = orders_working_of_run(mode=mode, run_id=state.run_id)
            if ids:
                trade_orders_flag(
                    order_ids=ids,
                    flag=OrderFlag.ENGINE_DOWN,
                    message=f"engine run {state.run_id} exited: {state.message}",
                )
    return states


@dataclass
class SweepReport:
    """What one sweep did."""

    reenqueued: list[int]
    released: list[int]
    flagged: list[int]


def _silent_orders_flag(*, now: datetime, stale_before: datetime, mode: str | None) -> list[int]:
    """Flag STALE the orders a running engine should have moved but has said nothing about.

    A market order still SUBMITTED while the market is open should have filled, and a cancel should have
    been answered; a resting limit or stop order waits for its price and is never STALE."""
    hours = "us-equity" if settings.TRADEDESK_ENGINE == "lean" else settings.TRADEDESK_SIM_MARKET_HOURS
    market_open = market_hours.exchange_open_at(now=now, hours=hours)
    should_move = Q(status=OrderStatus.CANCEL_PENDING)
    if market_open:
        should_move |= Q(
            order_type=OrderType.MKT, status__in=[OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED]
        )
    modes = [mode] if mode else list(Mode.values)
    running = [m for m in modes if engines.engine_state(m).state == "running"]
    ids = list(
        TradeOrder.objects.filter(should_move, mode__in=running, last_status_ts__lt=stale_before)
        .exclude(flag__in=[OrderFlag.STALE, OrderFlag.ENGINE_DOWN])
        .values_list("pk", flat=True)
    )
    if ids:
        seconds = int(settings.TRADEDESK_STALE_AFTER_SECONDS)
        trade_orders_flag(order_ids=ids, flag=OrderFlag.STALE, message=f"no engine event for {seconds} s")
    return ids


def orders_sweep(*, enqueue: Any, mode: str | None = None) -> SweepReport:
    """Find orders lost between the click and the engine and put them back on the path (or flag them).

    With `mode`, only that mode's orders: the sweep reads engine files, so it runs on the mode's engine host."""
    scope = {"mode": mode} if mode else {}
    now = timezone.now()
    report = SweepReport(reenqueued=[], released=[], flagged=[])
    reenqueue_before = now - timedelta(seconds=settings.TRADEDESK_REENQUEUE_AFTER_SECONDS)
    stale_before = now - timedelta(seconds=settings.TRADEDESK_STALE_AFTER_SECONDS)

    # NEW and never claimed: the broker was down at commit.
    for order_id in TradeOrder.objects.filter(
        status=OrderStatus.NEW, dispatched_at__isnull=True, created_at__lt=reenqueue_before, **scope
    ).values_list("pk", flat=True):
        enqueue(order_id)
        report.reenqueued.append(order_id)

    # Claimed, still NEW, no event: find out whether it ever reached the engine.
    for order in TradeOrder.objects.filter(
        status=OrderStatus.NEW,
        dispatched_at__isnull=False,
        dispatched_at__lt=reenqueue_before,
        last_status_ts__isnull=True,
        **scope,
    ):
        mode, record = order.mode, order.engine_record
        command_id = engines.command_id_for(order.client_order_id)
        if engines.result_path(mode, command_id).exists():
            if order.dispatched_at and order.dispatched_at < stale_before and order.flag != OrderFlag.STALE:
                trade_orders_flag(
                    order_ids=[order.pk],
                    flag=OrderFlag.STALE,
                    message="the engine accepted the order but sent no event",
                )
                report.flagged.append(order.pk)
        elif engines.command_path(mode, command_id).exists():
            if order.flag != OrderFlag.COMMAND_UNREAD:
                state = engines.engine_state(mode)
                trade_orders_flag(
                    order_ids=[order.pk],
                    flag=OrderFlag.COMMAND_UNREAD,
                    message=f"the {mode} engine has not read the order ({state.state})",
                )
                report.flagged.append(order.pk)
        elif not record.handed_over_at and not engines.intent_handed_over(mode, _intent_path(order)):
            if trade_order_release_claim(order_id=order.pk, reason="never reached the engine"):
                enqueue(order.pk)
                report.released.append(order.pk)
        elif order.dispatched_at and order.dispatched_at < stale_before and order.flag != OrderFlag.STALE:
            trade_orders_flag(
                order_ids=[order.pk],
                flag=OrderFlag.STALE,
                message="handed to the engine but no event came back",
            )
            report.flagged.append(order.pk)

    # Dead runs first: their orders are ENGINE_DOWN (unknown), never STALE.
    engines_check(modes=[mode] if mode else engines.MODES)
    report.flagged.extend(_silent_orders_flag(now=now, stale_before=stale_before, mode=mode))
    closes_release(enqueue=enqueue, mode=mode)
    return report


def closes_held() -> QuerySet[TradeOrder]:
    """Closing orders held back until the cancels they wait for are final (never dispatched yet)."""
    return TradeOrder.objects.filter(
        status=OrderStatus.NEW, dispatched_at__isnull=True, params__action=CLOSE_ACTION
    )


def closes_release(*, enqueue: Any, actor: Actor | None = None, mode: str | None = None) -> list[int]:
    """Enqueue the held closing orders whose cancels are final; ask again for cancels not yet requested."""
    released = []
    held = closes_held().order_by("id")
    if mode:
        held = held.filter(mode=mode)
    for close in held:
        blockers = close_order_blockers(order=close)
        if not blockers:
            enqueue(close.pk)
            released.append(close.pk)
            continue
        unsent = [
            order
            for order in blockers
            if order.status != OrderStatus.CANCEL_PENDING and order.cancel_requested_at is None
        ]
        if unsent:
            orders_cancel(orders=unsent, actor=actor)
    return released
