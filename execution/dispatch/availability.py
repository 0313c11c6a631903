"""Whether an engine will take a new order of a mode: the one engine-down rule the doors give the domain."""

from __future__ import annotations

from django.conf import settings

from execution.engine import process as engines


def engine_down_reason(mode: str) -> str:
    """Why no engine will take an order of `mode` now, or "" when one will (or this host cannot know).

    Known down: this host sees the mode's engine folder (TRADEDESK_ENGINE_FILES_LOCAL), no engine runs there, and
    none is started for the order (TRADEDESK_ENGINE_AUTOSTART off: production's engine units). The dispatch would
    fail such an order a moment after accepting it (engines.hand_over); it is refused at the ticket instead."""
    if settings.TRADEDESK_ENGINE_AUTOSTART or not settings.TRADEDESK_ENGINE_FILES_LOCAL:
        return ""
    state = engines.engine_state(mode)
    if state.state == "running":
        return ""
    why = state.state
    if state.ended_by == "brokerage":
        why = f"{state.state}: LEAN ended the run on a brokerage message: {state.message}"
    elif state.message:
        why = f"{state.state}: {state.message}"
    return (
        f"the {mode.upper()} engine is down ({why}) and nothing starts it for an order here "
        f"(TRADEDESK_ENGINE_AUTOSTART is off): staff start it with `manage.py engine start --mode {mode}` "
        "or Start engine on the page; nothing was placed"
    )
