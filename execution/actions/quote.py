"""The quote door: a bid / ask for the ticket's symbol. A symbol the engine does not price yet is subscribed
through the one subscribe path (execution.actions.subscribe.symbol_subscribe), run on the mode's engine host
from its queue: a web request never writes engine files itself. Asked only for a valid symbol, once per
symbol, user and engine run a minute, at most TRADEDESK_QUOTE_REQUESTS_PER_MINUTE symbols a minute per user."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from execution import routing
from execution.engine import process as engines
from execution.engine.universe import universe_symbols
from execution.ingest.prices import Quote, prices_snapshot
from orders.models import SYMBOL_REGEX

ASKED = "asked"  # the engine host was asked to subscribe it
WAITING = "waiting"  # asked within the last minute: its price is on the way
LIMITED = "rate_limited"  # the user asked for too many symbols this minute
NO_ENGINE = "no_engine"  # the mode's engine is not running: nobody to ask
INVALID = "invalid"  # not a symbol the engine could know (a typed prefix, junk)
QUOTED = "quoted"


@dataclass(frozen=True)
class QuoteAnswer:
    """The symbol's quote when the engine's fresh snapshot has it, else what was done to get one."""

    symbol: str
    outcome: str
    quote: Quote | None = None


def symbol_quotable(symbol: str) -> bool:
    """A well-formed symbol that the simulator's universe lists (when there is one): never a typed prefix."""
    if not re.fullmatch(SYMBOL_REGEX, symbol):
        return False
    universe = universe_symbols()
    return not universe or symbol in universe


def quote_request(*, mode: str, symbol: str, user_id: int) -> QuoteAnswer:
    """The symbol's bid / ask from the mode's fresh prices snapshot; else ask the engine host to subscribe
    it (through its queue), at most once a minute per user and symbol, within the per-user rate."""
    if not symbol_quotable(symbol):
        return QuoteAnswer(symbol, INVALID)
    snapshot = prices_snapshot(mode)
    quote = snapshot.quotes.get(symbol) if snapshot is not None and not snapshot.is_stale() else None
    if quote is not None:
        return QuoteAnswer(symbol, QUOTED, quote)
    running = engines.running_engine(mode)
    if running is None:
        return QuoteAnswer(symbol, NO_ENGINE)
    # Per engine run: a restarted engine has none of the last run's subscriptions, so it is asked again.
    asked_key = f"quote-asked:{mode}:{running.get('run_id', '')}:{user_id}:{symbol}"
    if not cache.add(asked_key, 1, timeout=60):
        return QuoteAnswer(symbol, WAITING)
    rate_key = f"quote-rate:{user_id}"
    cache.add(rate_key, 0, timeout=60)
    if cache.incr(rate_key) > settings.TRADEDESK_QUOTE_REQUESTS_PER_MINUTE:
        cache.delete(asked_key)  # not asked: a later try may ask
        return QuoteAnswer(symbol, LIMITED)
    routing.subscribe_enqueue(mode=mode, symbol=symbol)
    return QuoteAnswer(symbol, ASKED)
