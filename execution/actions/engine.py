"""Engine control services: stop (refused while the engine holds working orders, unless forced), restart to
reconcile, the preflight after a failed LEAN start, and the market-hours rule for an order's command."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings

from execution import engines, market_hours
from orders.errors import Conflict
from orders.models import OrderFlag
from orders.selectors import orders_working
from orders.services import Actor, audit_record, trade_orders_flag

logger = logging.getLogger("execution.control")


def held_working_orders(*, mode: str) -> list[int]:
    """Ids of the mode's working orders that its running engine run holds."""
    info = engines.running_engine(mode)
    if info is None:
        return []
    return list(
        orders_working(mode=mode)
        .filter(params__manual_execution__run_id=str(info.get("run_id", "")))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


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


def note_failed_start(*, mode: str, state: engines.EngineState) -> None:
    """After a LEAN engine failed (to start or later), keep the preflight's failing lines once per run."""
    if settings.TRADEDESK_ENGINE != "lean" or state.state == "running":
        return
    from execution.preflight import preflight_recorded, record_failed_start

    if not preflight_recorded(mode=mode, run_id=state.run_id):
        record_failed_start(mode=mode, run_id=state.run_id)


def market_now() -> datetime:
    """The time the market-hours rule sees: the simulator's fixed clock when set, else now."""
    if settings.TRADEDESK_ENGINE == "simulator":
        return market_hours.clock(settings.TRADEDESK_SIM_CLOCK)
    return market_hours.clock()


def market_route(*, order_type: str) -> tuple[str, str]:
    """The market-hours rule for an order sent now: ("", "") for a limit order."""
    if order_type != "MKT":
        return "", ""
    hours = "us-equity" if settings.TRADEDESK_ENGINE == "lean" else settings.TRADEDESK_SIM_MARKET_HOURS
    return market_hours.route_at(now=market_now(), hours=hours)
