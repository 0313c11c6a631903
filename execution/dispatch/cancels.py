"""Cancels across hosts: the asking side records a request row, the engine host writes the command.

order_cancel_request runs anywhere (web, API, admin, HALT): an order never handed over is CANCELED at once;
one an engine holds gets a request row and a `cancel_order` task on its mode's queue. order_cancel_send runs
on the engine host (that task, the ingest and the sweep) and writes the CancelOrderCommand once per request."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from execution import routing
from execution.engine import process as engines
from orders.errors import Conflict
from orders.models import WORKING_STATUSES, BracketRole, OrderStatus, Project, TradeOrder
from orders.selectors import orders_unknown, orders_working
from orders.services import (
    CLOSED_BY_CANCEL,
    Actor,
    CloseResult,
    audit_record,
    bracket_groups_close,
    order_cancel_record,
    project_lock,
    trade_order_cancel_before_dispatch,
    trade_order_cancel_sent,
    trade_orders_cancel_pending,
)

logger = logging.getLogger("execution")

HELD_CHILD = "a bracket's leg is sent when its entry fills: cancel the entry to cancel the whole bracket"
ENGINE_DOWN = (
    "the engine run that held this order is down: the cancel request is recorded; the order may "
    "still be live at the broker, staff resolve it once the broker reports"
)


@dataclass(frozen=True)
class CancelResult:
    """The order after a cancel: `requested` when its engine must still act (202), else canceled here (200)."""

    order: TradeOrder
    requested: bool


def order_cancel_request(*, order: TradeOrder, actor: Actor | None = None) -> CancelResult:
    """Cancel locally if the order never left tradedesk, else record a request for its engine host.

    Open to every member (it reduces risk). An unknown order's request is recorded and refused: its engine
    run is down, so only staff can settle it (order_resolve) once the broker says what happened. A bracket's
    entry cancels its group: the group is marked closed (no child is sent afterwards) and the cancel of each
    working child is requested with it."""
    refusal = ""
    with transaction.atomic():
        project_lock(project_id=order.project_id)
        order = (
            TradeOrder.objects.select_for_update(of=("self",), no_key=True)
            .select_related("project")
            .get(pk=order.pk)
        )
        if order.status == OrderStatus.HELD:
            refusal = HELD_CHILD
        elif order.status not in WORKING_STATUSES:
            refusal = f"order is {order.status} and cannot be canceled"
        elif order.is_unknown:
            audit_record(
                actor=actor, action="order_cancel_requested", project=order.project, order=order,
                detail={"outcome": "engine down"},
            )  # fmt: skip
            refusal = ENGINE_DOWN
        elif trade_order_cancel_before_dispatch(order=order, actor=actor):
            return CancelResult(order=order, requested=False)
        else:
            if order_cancel_record(order=order, actor=actor):
                routing.cancel_enqueue_on_commit(order_id=order.pk, mode=order.mode)
            if order.bracket_role == BracketRole.ENTRY:
                for child in bracket_groups_close(entries=[order], reason=CLOSED_BY_CANCEL):
                    if not child.is_unknown and order_cancel_record(order=child, actor=actor):
                        routing.cancel_enqueue_on_commit(order_id=child.pk, mode=child.mode)
    if refusal:
        raise Conflict(refusal)
    order.refresh_from_db()
    return CancelResult(order=order, requested=True)


def order_cancel_send(*, order_id: int) -> str:
    """Engine host: write the CancelOrderCommand of a pending request, once; returns what happened."""
    order = trade_orders_cancel_pending().filter(pk=order_id).first()
    if order is None:
        return "nothing pending"
    if order.ib_order_id is None:
        return "not acknowledged by the engine yet"  # the next ingest or sweep sends it
    if not engines.engine_holds(order):
        return "the engine run that holds this order is not running here"
    with transaction.atomic():
        project_lock(project_id=order.project_id)
        locked = trade_orders_cancel_pending().select_for_update().filter(pk=order_id).first()
        if locked is None or locked.cancel_requested_at is None or locked.ib_order_id is None:
            return "nothing pending"
        requested_at = locked.cancel_requested_at
        # One command id per request: a redelivered task rewrites the same file, never a second cancel.
        command = engines.cancel_command(
            command_id=engines.command_id_for(f"{locked.client_order_id}:cancel:{requested_at.timestamp()}"),
            engine_order_id=locked.ib_order_id,
        )
        engines.send_command(locked.mode, command)
        trade_order_cancel_sent(order=locked, requested_at=requested_at, command_id=command["Id"])
    return "sent"


def cancels_send_pending(*, mode: str | None = None) -> list[int]:
    """Engine host: send every pending cancel request of the mode (all modes when None); ids sent."""
    sent = []
    for order_id in trade_orders_cancel_pending(mode=mode).order_by("id").values_list("pk", flat=True):
        try:
            outcome = order_cancel_send(order_id=order_id)
        except engines.EngineError as exc:
            logger.warning("cancel not sent", extra={"order_id": order_id, "reason": str(exc)})
            continue
        if outcome == "sent":
            sent.append(order_id)
    return sent


CANCEL_REQUESTED = "cancel requested"


UNKNOWN_OUTCOME = "unknown: its engine run is down; it may still be live at the broker (staff resolve it)"


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


def close_cancels_request(*, result: CloseResult, actor: Actor | None) -> None:
    """Send the cancels the closing orders wait for (after their commit); a refusal is retried by the sweep."""
    for client_order_id, outcome in orders_cancel(orders=result.to_cancel, actor=actor).items():
        if outcome != CANCEL_REQUESTED:
            logger.info("close: cancel not sent yet", extra={"order": client_order_id, "reason": outcome})
