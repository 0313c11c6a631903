"""The engine host's part of the legs tradedesk holds (orders/services/bracket_desk.py): dispatch the legs it
placed, send each resize it decided as an update command to the run that holds the leg, and cancel the legs a
closed group left HELD."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from execution.contract.intents import json_number
from execution.engine import process as engines
from orders.models import Mode, Side
from orders.services import apply_engine_events, order_modify_reject
from orders.services.bracket_desk import bracket_desk_legs
from orders.services.bracket_ledger import GROUP_CLOSED, bracket_event

logger = logging.getLogger("execution")


@dataclass
class LegsSent:
    """What one pass sent: legs enqueued for dispatch, legs whose resize command was written."""

    dispatched: list[int] = field(default_factory=list)
    resized: list[int] = field(default_factory=list)


def bracket_legs_send(*, enqueue: Callable[[int], None], mode: str | None = None) -> LegsSent:
    """Place and size the legs of the groups no engine run holds, for the mode (every mode when None)."""
    sent = LegsSent()
    for each in [mode] if mode else list(Mode.values):
        running = engines.running_engine(each)
        decided = bracket_desk_legs(mode=each, run_id=str(running["run_id"]) if running else None)
        if decided.never_sent:
            apply_engine_events([bracket_event(leg, GROUP_CLOSED) for leg in decided.never_sent])
        for order_id in decided.dispatch:
            enqueue(order_id)
            sent.dispatched.append(order_id)
        for leg in decided.resize:
            assert leg.ib_order_id is not None and leg.update_quantity is not None  # bracket_desk checked
            signed = leg.update_quantity if leg.side == Side.BUY else -leg.update_quantity
            command = engines.update_command(
                command_id=engines.command_id_for(
                    f"{leg.client_order_id}:resize:{timezone.now().timestamp()}"
                ),
                engine_order_id=leg.ib_order_id,
                quantity=json_number(signed),
                limit_price=None,
                stop_price=None,
            )
            try:
                engines.send_command(leg.mode, command)
            except Exception as exc:  # dropped, so the next pass asks again
                logger.warning(
                    "bracket resize not sent", extra={"order": leg.client_order_id, "reason": str(exc)}
                )
                order_modify_reject(order=leg, message=f"could not send the bracket resize: {exc}")
                continue
            sent.resized.append(leg.pk)
    return sent
