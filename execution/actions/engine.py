"""The engine stop and restart doors: stop is refused while the engine holds working orders (unless forced);
restart reloads the broker's holdings and is refused while any order works."""

from __future__ import annotations

import logging

from django.conf import settings

from execution import routing
from execution.dispatch.sweep import engines_check
from execution.engine import process as engines
from execution.engine.config import EngineConfigError
from execution.engine.preflight import note_failed_start
from execution.engine.process import engine_start
from execution.engine.state import EngineError
from orders.errors import Conflict
from orders.models import OrderFlag
from orders.selectors import orders_working, orders_working_of_run
from orders.services import Actor, audit_record, trade_orders_flag

logger = logging.getLogger("execution.actions.engine")


def held_working_orders(*, mode: str) -> list[int]:
    """Ids of the mode's working orders that its running engine run holds."""
    info = engines.running_engine(mode)
    if info is None:
        return []
    return orders_working_of_run(mode=mode, run_id=str(info.get("run_id", "")))


def engine_stop(
    *, mode: str, force: bool = False, timeout: float | None = None, actor: Actor | None = None
) -> engines.EngineState:
    """Stop the mode's engine cleanly; refused while it holds working orders unless `force`.

    A forced stop flags those orders ENGINE_DOWN: IB may still work them with nobody reporting their fills.
    """
    held = held_working_orders(mode=mode)
    if held and not force:
        raise Conflict(
            f"the {mode} engine holds {len(held)} working order(s) (ids {', '.join(map(str, held[:20]))}); "
            "cancel them first, or force the stop: they become unknown until staff resolve them (check them in IB)"
        )
    run_id = str((engines.running_engine(mode) or {}).get("run_id", ""))
    state = engines.stop_engine(mode, timeout=timeout)
    if held:
        trade_orders_flag(
            order_ids=held,
            flag=OrderFlag.ENGINE_DOWN,
            message=f"engine run {run_id} was stopped by force while the order was working",
        )
        # Loud: the engine unit's ExecStop forces every stop, so the journal must name what it left at IB.
        logger.warning(
            "engine stopped by force: its working orders are flagged ENGINE_DOWN, check them in IB",
            extra={"mode": mode, "run_id": run_id, "order_ids": held},
        )
    audit_record(
        actor=actor,
        action="engine_stop_forced" if held else "engine_stop",
        detail={"mode": mode, "force": force, "run_id": run_id, "held": held},
    )
    return state


def engine_restart(*, mode: str, actor: Actor | None = None) -> engines.EngineState:
    """Restart the mode's engine so it reloads the broker's holdings; refused while any order works."""
    working = orders_working(mode=mode).count()
    if working:
        raise Conflict(
            f"the {mode} mode has {working} working order(s); restart the engine when none is working"
        )
    if engines.running_engine(mode) is not None:
        engines.stop_engine(mode)
    try:
        started = engines.engine_start(mode)
    except engines.EngineError as exc:
        note_failed_start(mode=mode, state=engines.engine_state(mode))
        raise Conflict(f"the {mode} engine did not start: {exc}") from exc
    audit_record(actor=actor, action="engine_restart", detail={"mode": mode, "run_id": started.run_id})
    return engines.engine_state(mode)


def engine_start_requested(*, mode: str, actor: Actor | None = None) -> engines.EngineState:
    """Staff's Start engine on the page: the engine command's start, audited. Where the engine files are not
    local (a web host) the start is queued to the mode's engine host; a web request never starts it here."""
    audit_record(actor=actor, action="engine_start", detail={"mode": mode})
    if not settings.TRADEDESK_ENGINE_FILES_LOCAL:
        routing.engine_start_enqueue(mode=mode)
        return engines.engine_state(mode)
    try:
        return engines.engine_start(mode)
    except (engines.EngineError, EngineConfigError) as exc:
        note_failed_start(mode=mode, state=engines.engine_state(mode))
        raise Conflict(f"the {mode} engine did not start: {exc}") from exc


# Starting an engine and checking every mode's engine are doors too (the engine command, the API).
__all__ = [
    "EngineConfigError",
    "EngineError",
    "engine_restart",
    "engine_start",
    "engine_start_requested",
    "engine_stop",
    "engines_check",
]
