"""The engines' prices snapshots (prices.json): read cheaply (cached by the file's stat) and valued against
positions. Prices are not event lines: nothing here writes to the database."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
from django.conf import settings
from django.utils import timezone

from execution.contract.files import read_json
from execution.engine import process as engines
from execution.push import snapshot_read as pushed_read
from orders.models import PRICE_PLACES, SYMBOL_REGEX, Position


@dataclass(frozen=True)
class Quote:
    """One symbol's prices in a snapshot."""

    symbol: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    previous_close: Decimal | None = None  # the previous session's close (day P&L), when the engine has it


@dataclass(frozen=True)
class PriceSnapshot:
    """An engine's prices file: its run, the time of the prices, and the quotes by symbol."""

    run_id: str
    time: datetime
    quotes: dict[str, Quote]
    version: str  # changes whenever the file is replaced

    def is_stale(self, *, now: datetime | None = None) -> bool:
        """True when the prices are older than TRADEDESK_PRICE_STALE_SECONDS."""
        age = (now or timezone.now()) - self.time
        return age > timedelta(seconds=settings.TRADEDESK_PRICE_STALE_SECONDS)


@dataclass(frozen=True)
class Valuation:
    """A position valued at a price: the market's when a snapshot has the symbol, else the last fill."""

    last_price: Decimal | None
    market_value: Decimal | None
    unrealized_pnl: Decimal | None
    price_time: datetime | None
    stale: bool
    source: str  # "market" | "last_fill" | ""


_cache: dict[str, tuple[tuple[int, int, int, int], Any]] = {}
_cache_lock = threading.Lock()
T = TypeVar("T")


def snapshot_read(path: Path, parse: Callable[..., T | None]) -> T | None:
    """An engine snapshot file (prices.json, account.json) parsed by `parse(data, version=...)`: a stat per
    call, and the file is read and parsed again only when it was replaced (its inode, size or mtime changed).
    The one reader of every snapshot, so they are cached and versioned alike. A web host that sees no engine
    folder (TRADEDESK_ENGINE_FILES_LOCAL=false) reads the copy the engine host's watcher pushed (execution/push.py).
    """
    if not settings.TRADEDESK_ENGINE_FILES_LOCAL:
        return _published_read(path, parse)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(str(path))
    if cached is not None and cached[0] == key:
        return cast("T | None", cached[1])
    snapshot = parse(read_json(path), version=f"{stat.st_ino}:{stat.st_mtime_ns}")
    with _cache_lock:
        _cache[str(path)] = (key, snapshot)
    return snapshot


def _published_read(path: Path, parse: Callable[..., T | None]) -> T | None:
    """The pushed copy of engines/<mode>/<name>.json, parsed once per version."""
    found = pushed_read(path.parent.name, path.stem)
    if found is None:
        return None
    version, data = found
    key = (0, 0, len(data), hash(version))
    with _cache_lock:
        cached = _cache.get(f"pushed:{path}")
    if cached is not None and cached[0] == key:
        return cast("T | None", cached[1])
    try:
        snapshot = parse(orjson.loads(data), version=version)
    except orjson.JSONDecodeError:
        snapshot = None
    with _cache_lock:
        _cache[f"pushed:{path}"] = (key, snapshot)
    return snapshot


def prices_path(mode: str) -> Path:
    """Where the mode's engine keeps its prices snapshot (beside events.jsonl)."""
    return engines.engine_folder(mode).prices


def _price(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        return None
    if not number.is_finite() or number <= 0 or number >= Decimal("1e13"):
        return None
    return number.quantize(PRICE_PLACES)


def parse_snapshot(data: Any, *, version: str = "") -> PriceSnapshot | None:
    """A decoded prices file -> PriceSnapshot; None when it is not one. Entries that break the shape are
    skipped, never repaired."""
    if not isinstance(data, dict) or not isinstance(data.get("time"), str):
        return None
    try:
        moment = datetime.fromisoformat(data["time"])
    except ValueError:
        return None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    quotes: dict[str, Quote] = {}
    for entry in data.get("prices") or []:
        if not isinstance(entry, dict):
            continue
        symbol, last = entry.get("symbol"), _price(entry.get("last"))
        if not isinstance(symbol, str) or not re.fullmatch(SYMBOL_REGEX, symbol) or last is None:
            continue
        quotes[symbol] = Quote(
            symbol=symbol,
            last=last,
            bid=_price(entry.get("bid")),
            ask=_price(entry.get("ask")),
            previous_close=_price(entry.get("previous_close")),
        )
    return PriceSnapshot(run_id=str(data.get("run_id") or ""), time=moment, quotes=quotes, version=version)


def prices_snapshot(mode: str) -> PriceSnapshot | None:
    """The mode's prices snapshot; a stat per call, the file is read again only when it was replaced."""
    return snapshot_read(prices_path(mode), parse_snapshot)


def fresh_market_price(mode: str, symbol: str) -> Decimal | None:
    """The last price of a symbol when the mode's snapshot has it and is fresh (the risk check's source)."""
    snapshot = prices_snapshot(mode)
    if snapshot is None or snapshot.is_stale():
        return None
    quote = snapshot.quotes.get(symbol)
    return quote.last if quote is not None else None


def position_valuation(position: Position, snapshot: PriceSnapshot | None, *, now: datetime) -> Valuation:
    """Value a position at the snapshot's last price, else at its last fill; stale past the threshold."""
    quote = snapshot.quotes.get(position.symbol) if snapshot is not None else None
    when: datetime | None
    if quote is not None and snapshot is not None:
        price, when, stale, source = quote.last, snapshot.time, snapshot.is_stale(now=now), "market"
    elif position.last_fill_price is not None:
        when = position.last_fill_at
        old = when is None or now - when > timedelta(seconds=settings.TRADEDESK_PRICE_STALE_SECONDS)
        price, stale, source = position.last_fill_price, old, "last_fill"
    else:
        return Valuation(None, None, None, None, True, "")
    return Valuation(
        last_price=price,
        market_value=price * position.quantity,
        unrealized_pnl=(price - position.avg_cost) * position.quantity,
        price_time=when,
        stale=stale,
        source=source,
    )


def positions_value(positions: list[Position], *, mode: str) -> PriceSnapshot | None:
    """Attach `valuation` to each position (for the page and the API); returns the snapshot used."""
    snapshot = prices_snapshot(mode)
    now = timezone.now()
    for position in positions:
        position.valuation = position_valuation(position, snapshot, now=now)  # type: ignore[attr-defined]
    return snapshot


@dataclass(frozen=True)
class PositionTotals:
    """A project's book in one mode: open positions' market value and unrealised P&L (over the priced ones),
    and the realised P&L of every position, flat ones included."""

    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    open_positions: int
    unpriced_positions: int  # open positions with no price at all: left out of the two sums above


def positions_totals(positions: list[Position], *, realized_pnl: Decimal) -> PositionTotals:
    """Totals of positions valued by positions_value; `realized_pnl` is the project's total in the mode."""
    valuations = [position.valuation for position in positions]  # type: ignore[attr-defined]
    priced = [valuation for valuation in valuations if valuation.market_value is not None]
    return PositionTotals(
        market_value=sum((v.market_value for v in priced), Decimal(0)),
        unrealized_pnl=sum((v.unrealized_pnl for v in priced), Decimal(0)),
        realized_pnl=realized_pnl,
        open_positions=len(positions),
        unpriced_positions=len(valuations) - len(priced),
    )
