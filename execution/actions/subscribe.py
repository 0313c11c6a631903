"""The desk's one subscribe path: a symbol the running engine of a mode should have data (and orders) for."""

from __future__ import annotations

from execution.engine import process as engines
from execution.engine.subscribe import SYMBOL_RE
from orders.errors import OrderValidationError
from orders.models import Mode


def symbol_subscribe(*, mode: str, symbol: str) -> str:
    """Send LEAN's AddSecurityCommand for `symbol` to the mode's running engine; what happened, in words.

    Idempotent and cheap: once per symbol and run ("already subscribed" after), nothing without a running
    engine ("no engine running": a new run subscribes the intents folder's symbols itself). The dispatch
    writes the same command before every order (engine.process.hand_over), so an engine started without an
    order can trade a symbol it does not hold."""
    if mode not in Mode.values:
        raise OrderValidationError(f"mode: unknown mode {mode!r}", errors={"mode": "paper or live"})
    if not isinstance(symbol, str) or not SYMBOL_RE.match(symbol):
        raise OrderValidationError(
            f"symbol: invalid symbol {symbol!r}", errors={"symbol": "1-15 of A-Z, 0-9 and ., a letter first"}
        )
    return engines.engine_subscribe(mode, symbol)
