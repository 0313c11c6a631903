"""Execution services: hand a claimed order to its engine exactly once, cancel, sweep, watch engines."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from execution import control, engines, market_hours, metrics
from execution.cancels import order_cancel_request
from execution.intents import json_number, write_manual_order_intent
from orders.errors import Conflict
from orders.models import (
    Mode,
    OrderFlag,
    OrderStatus,
    OrderType,
    Project,
    TradeOrder,
    TradingState,
)
from orders.selectors import orders_unknown, orders_working
from orders.services import (
    CLOSE_ACTION,
    Actor,
    CloseResult,
    close_order_blockers,
    positions_close,
    positions_liquidate,
    project_set_trading_state,
    require_resolver,
    trade_order_claim_for_dispatch,
    trade_order_record_dispatch,
    trade_order_release_claim,
    trade_order_resolve,
    trade_orders_flag,
    update_trade_order_status,
)

logger = logging.getLogger("execution")

CANCEL_REQUESTED = "cancel requested"
UNKNOWN_OUTCOME = "unknown: its engine run is down; it may still be live at the broker (staff resolve it)"


@dataclass(frozen=True)
class DispatchResult:
    """What order_dispatch did with an order."""

    order_id: int
    outcome: str  # dispatched | skipped | failed | rejected
    detail: str = ""


def _intent_path(order: TradeOrder) -> Path:
    return engines.engine_dir(order.mode) / "intents" / f"{order.client_order_id}.json"


def _order_command(order: TradeOrder, *, route: str = "") -> dict[str, Any]:
    return engines.order_command(
        command_id=engines.command_id_for(order.client_order_id),
        symbol=order.symbol,
        quantity=json_number(order.signed_quantity) or 0,
        order_type=route if route == market_hours.MARKET_ON_OPEN else order.order_type,
        limit_price=json_number(order.limit_price),
        tag=order.client_order_id,
        stop_price=json_number(order.stop_price),
    )


def order_dispatch(*, order_id: int) -> DispatchResult:
    """Claim the order, write its intent and config, hand it to the engine, and record how (or FAILED)."""
    order = trade_order_claim_for_dispatch(order_id=order_id)
    if order is None:
        return DispatchResult(order_id=order_id, outcome="skipped", detail="already claimed or not NEW")
    mode = order.mode
    try:
        intent = write_manual_order_intent(order, engines.engine_dir(mode) / "intents")
        # One market-hours rule for both paths: a new engine applies it to the intent, this to the command.
        route, route_message = control.market_route(order_type=order.order_type)
        command = _order_command(order, route=route)
        refusal = route_message if route == market_hours.REFUSED else ""
        handover = engines.hand_over(mode=mode, intent_path=intent, command=command, refusal=refusal)
        if handover.kind == "refused":
            update_trade_order_status(order, OrderStatus.REJECTED, message=refusal)
            return DispatchResult(order_id=order_id, outcome="rejected", detail=refusal)
        record: dict[str, Any] = {
            "engine": settings.TRADEDESK_ENGINE,
            "intent_path": str(intent),
            "config_path": str(engines.engine_dir(mode) / "config.json"),
            "events_path": str(engines.engine_dir(mode) / "events.jsonl"),
            "handover": handover.kind,
            "run_id": handover.run_id,
            "pid": handover.pid,
            "command_id": command["Id"],
            "handed_over_at": timezone.now().isoformat(),
        }
        if handover.kind == "command":
            record["command_path"] = handover.command_path
            record["order_type"] = command["OrderType"]
        trade_order_record_dispatch(order_id=order.pk, manual_execution=record)
        metrics.dispatch_latency_observe(seconds=(timezone.now() - order.created_at).total_seconds())
    except Exception as exc:  # any failure must become a visible FAILED, never a silent drop
        logger.exception("dispatch failed", extra={"order": order.client_order_id})
        control.note_failed_start(mode=mode, state=engines.engine_state(mode))
        update_trade_order_status(
            order, OrderStatus.FAILED, message=f"could not hand the order to the engine: {exc}"
        )
        return DispatchResult(order_id=order_id, outcome="failed", detail=str(exc))
    if handover.kind == "command":
        return _follow_command(order=order, intent=intent, command_id=command["Id"])
    return DispatchResult(
        order_id=order_id, outcome="dispatched", detail=f"started engine run {handover.run_id}"
    )


def _follow_command(*, order: TradeOrder, intent: Path, command_id: str) -> DispatchResult:
    """Wait briefly for the engine's answer; REJECTED on failure, a new engine if the old one died unread."""
    result = engines.wait_command_result(
        order.mode, command_id, timeout=settings.TRADEDESK_COMMAND_RESULT_TIMEOUT
    )
    if result is None:
        restarted = engines.ensure_command_read(mode=order.mode, command_id=command_id, intent_path=intent)
        if restarted is not None:
            trade_order_record_dispatch(
                order_id=order.pk,
                manual_execution={
                    "handover": "start",
                    "run_id": restarted.run_id,
                    "pid": restarted.pid,
                    "retracted_command": command_id,
                },
            )
            return DispatchResult(order_id=order.pk, outcome="dispatched", detail="engine restarted")
        return DispatchResult(order_id=order.pk, outcome="dispatched", detail="no command result yet")
    success = result.get("success")
    if success is False:
        message = str(result.get("message") or result.get("errormessage") or "the engine refused the order")
        update_trade_order_status(order, OrderStatus.REJECTED, message=message)
        return DispatchResult(order_id=order.pk, outcome="rejected", detail=message)
    return DispatchResult(order_id=order.pk, outcome="dispatched", detail="command accepted")


def engines_check(*, modes: Iterable[str] = engines.MODES) -> list[engines.EngineState]:
    """Each mode's engine state; working orders of a run that died are flagged ENGINE_DOWN."""
    states = []
    for mode in modes:
        state = engines.engine_state(mode)
        if state.state == "error":
            control.note_failed_start(mode=mode, state=state)
            state = engines.engine_state(mode)
        states.append(state)
        if state.state == "error" and state.run_id:
            ids = [
                order.pk
                for order in orders_working(mode=mode).only("pk", "params")
                if order.params.get("manual_execution", {}).get("run_id") == state.run_id
            ]
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
        mode, record = order.mode, order.params.get("manual_execution", {})
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
        elif not record.get("handed_over_at") and not engines.intent_handed_over(mode, _intent_path(order)):
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


def orders_cancel(*, orders: Iterable[TradeOrder], actor: Actor | None = None) -> dict[str, str]:
    """Request the cancel of each order; returns client_order_id -> "cancel requested" or why not."""
    outcomes: dict[str, str] = {}
    for order in orders:
        try:
            order_cancel_request(order=order, actor=actor)
            outcomes[order.client_order_id] = CANCEL_REQUESTED
        except Conflict as exc:
            outcomes[order.client_order_id] = exc.message
    return outcomes


def orders_cancel_working(*, project: Project, actor: Actor | None = None) -> dict[str, str]:
    """Cancel every working order of a project (the kill switch); unknown ones are listed, not cancelled."""
    outcomes = orders_cancel(orders=orders_working(project=project).order_by("id"), actor=actor)
    for order in orders_unknown(project=project).order_by("id"):
        outcomes[order.client_order_id] = UNKNOWN_OUTCOME
    return outcomes


def project_close_positions(
    *, project: Project, symbols: Iterable[str], user: Any = None, actor: Actor | None = None
) -> CloseResult:
    """Close positions (the entry point of page, API and admin): closing orders, then their cancels."""
    result = positions_close(project=project, symbols=symbols, user=user, actor=actor)
    _request_close_cancels(result=result, actor=actor)
    return result


def project_liquidate(*, project: Project, user: Any = None, actor: Actor | None = None) -> CloseResult:
    """Liquidate: cancel every working order of the project and close every non-zero position."""
    result = positions_liquidate(project=project, user=user, actor=actor)
    _request_close_cancels(result=result, actor=actor)
    return result


def _request_close_cancels(*, result: CloseResult, actor: Actor | None) -> None:
    """Send the cancels the closing orders wait for (after their commit); a refusal is retried by the sweep."""
    for client_order_id, outcome in orders_cancel(orders=result.to_cancel, actor=actor).items():
        if outcome != CANCEL_REQUESTED:
            logger.info("close: cancel not sent yet", extra={"order": client_order_id, "reason": outcome})


def closes_release(*, enqueue: Any, actor: Actor | None = None, mode: str | None = None) -> list[int]:
    """Enqueue the held closing orders whose cancels are final; ask again for cancels not yet requested."""
    released = []
    held = TradeOrder.objects.filter(
        status=OrderStatus.NEW, dispatched_at__isnull=True, params__action=CLOSE_ACTION
    ).order_by("id")
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


def project_trading_state_change(
    *, project: Project, state: str, actor: Actor | None = None
) -> tuple[Project, dict[str, str]]:
    """The one entry point for every interface: set the state; HALTED also cancels every working order.

    HALTED and its cancel requests commit in one transaction: the engine hosts' sweeps send the requests even
    when no task could be enqueued (the kill switch never depends on the broker)."""
    with transaction.atomic():
        project = project_set_trading_state(project=project, state=state, actor=actor)
        outcomes = orders_cancel_working(project=project, actor=actor) if state == TradingState.HALTED else {}
    return project, outcomes


def order_resolve(
    *,
    order: TradeOrder,
    status: str,
    note: str,
    quantity: Decimal | str | None = None,
    price: Decimal | str | None = None,
    actor: Actor | None = None,
) -> TradeOrder:
    """Staff settle an unknown order, once its dead run's events file is fully read (no fill counted twice)."""
    from execution.events import ingest_file

    require_resolver(actor=actor)
    if not order.is_unknown:
        raise Conflict("only an unknown order (its engine run died while it was working) can be resolved")
    run_id = str(order.params.get("manual_execution", {}).get("run_id", ""))
    state = engines.engine_state(order.mode)
    if state.state == "running" and state.run_id == run_id:
        raise Conflict("the engine run that holds this order is running again; cancel the order instead")
    report = ingest_file(engines.engine_dir(order.mode) / "events.jsonl")
    if report.pending_bytes:
        raise Conflict("the engine's events file ends in an unfinished line; try again once it is complete")
    order.refresh_from_db()
    return trade_order_resolve(
        order=order, status=status, note=note, quantity=quantity, price=price, actor=actor
    )


def simulator_account_add(*, mode: str, fills: list[tuple[str, Decimal, Decimal]]) -> None:
    """Book demo fills (symbol, signed quantity, price) into the simulator's broker account, so its holdings
    lines agree with positions that were seeded rather than traded."""
    from execution.simulator import ACCOUNT_FILE, Account

    account = Account(engines.engine_dir(mode) / ACCOUNT_FILE)
    account.path.parent.mkdir(parents=True, exist_ok=True)
    account.load()
    for symbol, quantity, price in fills:
        account.apply_fill(symbol, quantity, float(price))
