"""Hand a claimed order to its engine exactly once: intent, config, start or command, and its answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from execution import metrics
from execution.contract import (
    bracket_contract,
    command_refusal,
    json_number,
    market_hours,
    write_manual_order_intent,
)
from execution.engine import process as engines
from execution.engine.preflight import note_failed_start
from orders.models import (
    OrderStatus,
    TradeOrder,
)
from orders.services import (
    bracket_payload,
    order_stages_record_many,
    trade_order_claim_for_dispatch,
    trade_order_claim_resume,
    trade_order_dispatch_attempts,
    trade_order_record_dispatch,
    update_trade_order_status,
)

logger = logging.getLogger("execution")


@dataclass(frozen=True)
class DispatchResult:
    """What order_dispatch did with an order."""

    order_id: int
    outcome: str  # dispatched | skipped | failed | rejected
    detail: str = ""


# A database that went away (a PostgreSQL restart, a dropped connection): the task retries, never FAILED.
DATABASE_GONE = (OperationalError, InterfaceError)


class DispatchInterrupted(Exception):
    """The database went away after the order's claim `attempt` may have been taken: retry as that claim."""

    def __init__(self, *, order_id: int, attempt: int) -> None:
        super().__init__(f"order {order_id}: database error during dispatch claim {attempt}")
        self.order_id = order_id
        self.attempt = attempt


def _intent_path(order: TradeOrder) -> Path:
    return engines.engine_folder(order.mode).intent(order.client_order_id)


def _order_command(
    order: TradeOrder, *, route: str = "", bracket: dict[str, Any] | None = None
) -> dict[str, Any]:
    return engines.order_command(
        command_id=engines.command_id_for(order.client_order_id),
        symbol=order.symbol,
        quantity=json_number(order.signed_quantity) or 0,
        order_type=route if route == market_hours.MARKET_ON_OPEN else order.order_type,
        limit_price=json_number(order.limit_price),
        tag=order.client_order_id,
        stop_price=json_number(order.stop_price),
        trailing_amount=json_number(order.trailing_amount),
        trailing_as_percent=order.trailing_as_percent,
        trigger_price=json_number(order.trigger_price),
        time_in_force=order.time_in_force,
        good_till_date=order.good_till_date.isoformat() if order.good_till_date else None,
        outside_rth=order.outside_rth,
        bracket=bracket_contract(bracket),
    )


def market_now() -> datetime:
    """The time the market-hours rule sees: the simulator's fixed clock when set, else now."""
    if settings.TRADEDESK_ENGINE == "simulator":
        return market_hours.clock(settings.TRADEDESK_SIM_CLOCK)
    return market_hours.clock()


def market_route(*, order_type: str) -> tuple[str, str]:
    """The market-hours rule for an order sent now: ("", "") for a limit order; a market on close past its
    cut-off is refused (market_hours.moc_refusal, the same as LEAN's)."""
    if order_type == "MOC":
        refusal = market_hours.moc_refusal(now=market_now())
        return (market_hours.REFUSED, refusal) if refusal else ("", "")
    if order_type != "MKT":
        return "", ""
    hours = "us-equity" if settings.TRADEDESK_ENGINE == "lean" else settings.TRADEDESK_SIM_MARKET_HOURS
    return market_hours.route_at(now=market_now(), hours=hours)


def order_type_refusal(*, order_type: str) -> str:
    """Why an order of this type cannot be placed now (a market on close past its cut-off), else "": what the
    place door asks before an order is stored, so the trader gets a 422 rather than a REJECTED order."""
    if order_type != "MOC":
        return ""
    return market_route(order_type=order_type)[1]


def engine_may_have(order: TradeOrder) -> bool:
    """Whether any trace says the order reached its engine (a run started with its intent, its command file
    or the command's result): then it is never sent again."""
    mode, command_id = order.mode, engines.command_id_for(order.client_order_id)
    return bool(
        engines.result_path(mode, command_id).exists()
        or engines.command_path(mode, command_id).exists()
        or engines.intent_handed_over(mode, _intent_path(order))
    )


def order_dispatch(
    *, order_id: int, resume_attempt: int | None = None, attempt: int | None = None
) -> DispatchResult:
    """Claim the order, write its intent and config, hand it to the engine, and record how (or FAILED).

    A database error raises DispatchInterrupted naming the claim; `resume_attempt` is that claim on the
    retry: it continues the hand-over when the claim is still its own and nothing reached the engine.
    `attempt` is the claim to take when the enqueue knew it (a new order's first); else it is read."""
    # Known before claiming, so a claim whose answer is lost with the connection still has a known number.
    attempt = resume_attempt or attempt or trade_order_dispatch_attempts(order_id=order_id) + 1
    try:
        order = None
        if resume_attempt is not None:
            order = trade_order_claim_resume(order_id=order_id, attempt=attempt)
            if order is not None and engine_may_have(order):
                return DispatchResult(
                    order_id=order_id, outcome="skipped", detail="handed over before the database error"
                )
        order = order or trade_order_claim_for_dispatch(order_id=order_id, attempt=attempt)
        if order is None:
            return DispatchResult(order_id=order_id, outcome="skipped", detail="already claimed or not NEW")
        # Recorded with the hand-over's moment in one statement after the command file: not before it.
        return _dispatch_claimed(order, picked_up=timezone.now())
    except DATABASE_GONE as exc:
        raise DispatchInterrupted(order_id=order_id, attempt=attempt) from exc


def _dispatch_claimed(order: TradeOrder, *, picked_up: datetime) -> DispatchResult:
    """Hand a claimed order over; FAILED on any error but the database's own (the caller retries those)."""
    order_id = order.pk
    mode = order.mode
    stages: dict[str, dict[int, datetime]] = {"picked_up": {order_id: picked_up}}
    try:
        bracket = bracket_payload(order)
        intent = write_manual_order_intent(order, engines.engine_folder(mode).intents, bracket=bracket)
        # One market-hours rule for both paths: a new engine applies it to the intent, this to the command.
        route, route_message = market_route(order_type=order.order_type)
        command = _order_command(order, route=route, bracket=bracket)
        refusal = route_message if route == market_hours.REFUSED else ""
        handover = engines.hand_over(mode=mode, intent_path=intent, command=command, refusal=refusal)
        handed_over_at = timezone.now()
        if handover.kind == "refused":
            update_trade_order_status(order, OrderStatus.REJECTED, message=refusal)
            order_stages_record_many(at=stages)
            return DispatchResult(order_id=order_id, outcome="rejected", detail=refusal)
        record: dict[str, Any] = {
            "engine": settings.TRADEDESK_ENGINE,
            "intent_path": str(intent),
            "config_path": str(engines.engine_folder(mode).config),
            "events_path": str(engines.engine_folder(mode).events),
            "handover": handover.kind,
            "run_id": handover.run_id,
            "pid": handover.pid,
            "command_id": command["Id"],
            "handed_over_at": handed_over_at.isoformat(),
        }
        if handover.kind == "command":
            record["command_path"] = handover.command_path
            record["order_type"] = command["OrderType"]
        # One transaction (one commit) for the record and the stage times. A command to a running engine
        # shows on no screen until the engine answers: no push for it.
        with transaction.atomic():
            trade_order_record_dispatch(order_id=order.pk, record=record, announce=handover.kind != "command")
            order_stages_record_many(at={**stages, "handed_over": {order_id: handed_over_at}})
        metrics.dispatch_latency_observe(seconds=(timezone.now() - order.created_at).total_seconds())
    except DATABASE_GONE:
        raise
    except Exception as exc:  # any failure must become a visible FAILED, never a silent drop
        logger.exception("dispatch failed", extra={"order": order.client_order_id})
        note_failed_start(mode=mode, state=engines.engine_state(mode))
        update_trade_order_status(
            order, OrderStatus.FAILED, message=f"could not hand the order to the engine: {exc}"
        )
        order_stages_record_many(at=stages)
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
                record={
                    "handover": "start",
                    "run_id": restarted.run_id,
                    "pid": restarted.pid,
                    "retracted_command": command_id,
                },
            )
            return DispatchResult(order_id=order.pk, outcome="dispatched", detail="engine restarted")
        return DispatchResult(order_id=order.pk, outcome="dispatched", detail="no command result yet")
    refusal = command_refusal(result)
    if refusal is not None:
        # LEAN refused it before it existed (OrderCommand.Run: response.IsError): it was never placed.
        update_trade_order_status(order, OrderStatus.REJECTED, message=refusal)
        return DispatchResult(order_id=order.pk, outcome="rejected", detail=refusal)
    # Success is not final: the order's events decide its state.
    return DispatchResult(order_id=order.pk, outcome="dispatched", detail="command accepted")
