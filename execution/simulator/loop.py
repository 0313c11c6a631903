"""Built-in simulator engine: a stand-alone process that imitates LEAN at the file boundary.

Run as ``python -m execution.simulator --config <workdir>/config.json``. It reads the same launch config,
intent file and ``command*.json`` files a LEAN live engine would, and appends order events and holdings
lines to the events file in the engine contract's format (docs/engine-contract.md).

Standard library only on purpose: it is another process that meets tradedesk only through files, so it
must not import Django. Its one tradedesk import, `execution.market_hours`, is standard library only too: the
market-order rule outside regular hours must be the one tradedesk's command path uses.

Like LEAN (Launcher/Program.cs 98 at 24863901: Console.CancelKeyPress), SIGINT ends the run cleanly: a last
holdings line, then the stopped line. SIGTERM does the same here (LEAN has no SIGTERM handler).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import math
import os
import random
import re
import secrets
import signal
import stat
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import Any

from execution import market_hours

ENGINE_NAME = "simulator"
COMMAND_PATTERN = "command*.json"  # LEAN FileCommandHandler's pattern, matched case-sensitively
RESULT_PREFIX = "result-command-"  # LEAN FileCommandHandler's result file base name
ACCOUNT_FILE = "simulator-account.json"
DEFAULT_EVENTS_FILE = "events.jsonl"
PRICES_FILE = "prices.json"  # the prices snapshot, beside the events file
RESULT_PACKET_TYPE = "QuantConnect.Packets.CommandResultPacket, QuantConnect.Common"
SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,14}$")
# Ids end up in a file name: anything outside this set could escape the working directory.
SAFE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
ID_SNIFF_RE = re.compile(rb'"Id"\s*:\s*"?([A-Za-z0-9_.-]{1,128})"?', re.IGNORECASE)
WORKING = ("Submitted", "PartiallyFilled", "UpdateSubmitted")
QTY_PLACES = Decimal("0.00000001")
# The events file's line cap (TRADEDESK_EVENTS_MAX_LINE_BYTES), from the `max-line-bytes` launch parameter.
DEFAULT_MAX_LINE_BYTES = 1 << 20
MIN_MAX_LINE_BYTES = 1024

# LEAN enum numbers, for commands serialized with numeric enums instead of names.
LEAN_ORDER_TYPES = {
    0: "Market",
    1: "Limit",
    2: "StopMarket",
    3: "StopLimit",
    4: "MarketOnOpen",
    5: "MarketOnClose",
    6: "OptionExercise",
    7: "LimitIfTouched",
    8: "ComboMarket",
    9: "ComboLimit",
    10: "ComboLegLimit",
    11: "TrailingStop",
}
LEAN_SECURITY_TYPES = {0: "Base", 1: "Equity"}
# The LEAN order types the simulator works, and the intent file's names for them.
SUPPORTED_ORDER_TYPES = ("Market", "MarketOnOpen", "Limit", "StopMarket", "StopLimit")
INTENT_ORDER_TYPES = {"MKT": "Market", "LMT": "Limit", "STP": "StopMarket", "STP LMT": "StopLimit"}


def open_events_for_append(path: Path) -> Any:
    """The events file for unbuffered appends: never through a symlink, only a regular file, owner-only."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file; not appending to it")
    return os.fdopen(fd, "ab", buffering=0)


class InvalidCommand(ValueError):
    """A command that cannot even be turned into an order request (no order, no event)."""


# --------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------


def utc_now_iso() -> str:
    """Current UTC time as ISO-8601 with milliseconds and a trailing Z (the contract's time format)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def log(message: str) -> None:
    """Human-readable progress on stdout (the supervisor redirects it to engine.log)."""
    print(f"{utc_now_iso()} simulator: {message}", flush=True)


def warn(message: str) -> None:
    """Problems on stderr, so they stand out from progress lines."""
    print(f"{utc_now_iso()} simulator: {message}", file=sys.stderr, flush=True)


def json_number(value: Decimal | float) -> int | float:
    """A number for JSON: integral values as int (10, not 10.0), others as float."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if math.isfinite(value) and value == int(value) and abs(value) < 2**53:
        return int(value)
    return value


def parse_decimal(value: Any) -> Decimal | None:
    """A finite decimal from a JSON number or numeric string (Newtonsoft accepts both); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def atomic_write_json(path: Path, payload: Any) -> None:
    """Write JSON to path via a hidden temp file + rename so readers never see half a file."""
    # The temp name starts with "." and ends in ".tmp": it can never match command*.json.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    data = json.dumps(payload, ensure_ascii=False, indent=None).encode("utf-8")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink(missing_ok=True)


def reference_price(symbol: str, configured: dict[str, float]) -> float:
    """Starting price: the configured reference price, else one derived from the symbol's name."""
    if symbol in configured:
        return configured[symbol]
    digest = int(hashlib.sha256(symbol.encode("utf-8")).hexdigest(), 16)
    return 20 + (digest % 48000) / 100


def universe_load(path: Path) -> frozenset[str]:
    """The symbols of a universe file: one a line, blank lines and '#' comments skipped."""
    symbols = set()
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        symbol = line.split("#", 1)[0].strip().upper()
        if symbol:
            symbols.add(symbol)
    if not symbols:
        raise ValueError(f"simulator.universe-file {path} lists no symbol")
    return frozenset(symbols)


def split_quantity(quantity: Decimal, parts: int) -> list[Decimal]:
    """Absolute quantity split into fill parts: integers stay integers (10 in 3 -> 3, 3, 4)."""
    if parts <= 1 or quantity <= 0:
        return [quantity]
    if quantity == quantity.to_integral_value():
        parts = min(parts, int(quantity))  # never a zero-sized fill
        base = quantity // parts
        return [base] * (parts - 1) + [quantity - base * (parts - 1)]
    base = (quantity / parts).quantize(QTY_PLACES)
    return [base] * (parts - 1) + [quantity - base * (parts - 1)]


def fee_for(quantity: Decimal) -> float:
    """Per-fill fee: USD 0.005 per share, at least USD 1 (an IB-like fixed schedule)."""
    return round(max(1.0, 0.005 * float(quantity)), 6)


# --------------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------------


def line_cap(value: Any) -> int:
    """The `max-line-bytes` launch parameter: an integer of at least MIN_MAX_LINE_BYTES, else the default."""
    try:
        cap = int(str(value).strip())
    except ValueError:
        return DEFAULT_MAX_LINE_BYTES
    return cap if cap >= MIN_MAX_LINE_BYTES else DEFAULT_MAX_LINE_BYTES


def encode_line(payload: dict[str, Any]) -> bytes:
    """One JSON object and its newline, as the events file gets it (NaN and infinities are refused)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"


def split_holdings_line(line: dict[str, Any], *, snapshot: int, max_line_bytes: int) -> list[dict[str, Any]]:
    """The holdings line alone when it fits the cap, else the parts of one snapshot, each line within the cap.

    The same rule in the simulator and the LEAN algorithm (tests/execution/test_holdings_split.py): every part
    repeats the line's other keys, adds `snapshot`, `part` (from 1) and `parts`, and takes the next holdings in
    order while its line stays within `max_line_bytes` (newline included).
    """
    if len(encode_line(line)) <= max_line_bytes:
        return [line]
    holdings = line["holdings"]
    head = {key: value for key, value in line.items() if key != "holdings"}
    # Part numbers sized at their widest (one holding a part), so no part outgrows the room measured here.
    widest = {**head, "snapshot": snapshot, "part": len(holdings), "parts": len(holdings), "holdings": []}
    room = max_line_bytes - len(encode_line(widest))
    groups: list[list[dict[str, Any]]] = [[]]
    used = 0
    for item in holdings:
        # ", " separates list items in json.dumps' default separators; the first item's two bytes are slack.
        size = len(json.dumps(item, ensure_ascii=False, allow_nan=False).encode("utf-8")) + 2
        if size > room:
            raise ValueError(
                f"holding {item.get('symbol')!r} does not fit in a line of {max_line_bytes} bytes"
            )
        if groups[-1] and used + size > room:
            groups.append([])
            used = 0
        groups[-1].append(item)
        used += size
    return [
        {**head, "snapshot": snapshot, "part": number, "parts": len(groups), "holdings": group}
        for number, group in enumerate(groups, start=1)
    ]


@dataclass
class SimulatorConfig:
    """What the simulator reads from the LEAN-style launch config."""

    workdir: Path
    events_file: Path
    intent_file: Path | None
    run_id: str
    seed: int | str = 7
    idle_timeout: float = 600.0
    fill_delay: float = 0.05
    partial_fills: int = 1
    holdings_interval: float = 60.0
    poll_interval: float = 0.02
    reference_prices: dict[str, float] = field(default_factory=dict)
    market_hours: str = "always"  # or "us-equity": MKT outside 9:30-16:00 New York follows LEAN on IB
    clock: str = ""  # a fixed UTC time for the market hours (tests); empty: the real clock
    prices_interval: float = 0.0  # seconds between prices snapshots; 0: no snapshot
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES  # a longer holdings line is split into parts
    universe: frozenset[str] | None = None  # the symbols it trades; None: any well-formed symbol

    @classmethod
    def load(cls, config_path: Path) -> SimulatorConfig:
        """Read config.json; every path is resolved from the config's folder, never from the cwd."""
        config_path = config_path.resolve()
        workdir = config_path.parent
        raw = json.loads(config_path.read_text(encoding="utf-8-sig"))
        if not isinstance(raw, dict):
            raise ValueError("config is not a JSON object")
        params = raw.get("parameters") or {}
        if not isinstance(params, dict):
            raise ValueError("config 'parameters' is not an object")

        def resolve(value: Any) -> Path | None:
            """A parameter path, absolute or relative to the working directory; None when empty."""
            if value is None or str(value).strip() == "":
                return None
            path = Path(str(value))
            return path if path.is_absolute() else workdir / path

        events_file = resolve(params.get("events-file")) or workdir / DEFAULT_EVENTS_FILE
        run_id = str(params.get("run-id") or "").strip()
        if not run_id:
            # A run id keeps order ids of different runs apart; invent one rather than run without it.
            run_id = f"r-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
        sim = raw.get("simulator") or {}
        if not isinstance(sim, dict):
            raise ValueError("config 'simulator' is not an object")
        prices: dict[str, float] = {}
        for symbol, price in (sim.get("reference-prices") or {}).items():
            number = parse_decimal(price)
            if number is None or number <= 0:
                warn(f"ignoring reference price {price!r} for {symbol!r}: not a positive number")
                continue
            prices[str(symbol)] = float(number)
        seed = sim.get("seed", 7)

        def setting(key: str, default: float) -> float:
            """A finite simulator setting; a bad one names its key, so the error line says what to fix."""
            value = parse_decimal(sim.get(key, default))
            if value is None:
                raise ValueError(f"simulator.{key} must be a finite number, got {sim.get(key)!r}")
            return float(value)

        hours = str(sim.get("market-hours") or "always")
        if hours not in market_hours.HOURS_CHOICES:
            raise ValueError(f"simulator.market-hours must be one of {', '.join(market_hours.HOURS_CHOICES)}")
        fixed_clock = str(sim.get("clock") or "")
        if fixed_clock:
            market_hours.clock(fixed_clock)  # a bad clock names its key now, not at the first order
        universe_file = resolve(sim.get("universe-file"))
        return cls(
            workdir=workdir,
            events_file=events_file,
            intent_file=resolve(params.get("intent-file")),
            run_id=run_id,
            seed=seed if isinstance(seed, int | str) else str(seed),
            idle_timeout=setting("idle-timeout", 600),
            fill_delay=max(0.0, setting("fill-delay", 0.05)),
            partial_fills=max(1, int(setting("partial-fills", 1))),
            holdings_interval=setting("holdings-interval", 60),
            poll_interval=max(0.001, setting("poll-interval", 0.02)),
            reference_prices=prices,
            market_hours=hours,
            clock=fixed_clock,
            prices_interval=max(0.0, setting("prices-interval", 0)),
            max_line_bytes=line_cap(params.get("max-line-bytes")),
            universe=None if universe_file is None else universe_load(universe_file),
        )


# --------------------------------------------------------------------------------------------------------
# Prices, account, orders
# --------------------------------------------------------------------------------------------------------


class PriceBook:
    """Seeded random walk per symbol: the same seed gives every symbol the same price sequence."""

    def __init__(self, seed: int | str, reference_prices: dict[str, float]) -> None:
        """Remember the seed; each symbol's walk is created on first use."""
        self._seed = seed
        self._reference = reference_prices
        self._walks: dict[str, tuple[random.Random, float]] = {}

    def next_price(self, symbol: str) -> float:
        """Advance the symbol's walk one step and return the new price (the price a fill sees)."""
        # String seeds hash with SHA-512 in random.Random: stable across processes and PYTHONHASHSEED.
        rng, price = self._walks.get(symbol) or (
            random.Random(f"{self._seed}:{symbol}"),
            reference_price(symbol, self._reference),
        )
        price = max(0.01, round(price * (1 + rng.gauss(0, 0.001)), 2))
        self._walks[symbol] = (rng, price)
        return price


class Account:
    """The simulated broker account: holdings kept across runs in simulator-account.json."""

    def __init__(self, path: Path) -> None:
        """An empty account bound to its file; load() reads it."""
        self.path = path
        self.positions: dict[str, dict[str, Decimal]] = {}

    def load(self) -> None:
        """Read the account file (an unreadable one is set aside, not silently overwritten)."""
        path = self.path
        if not path.exists():
            return
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            for symbol, pos in raw.items():
                qty, avg = parse_decimal(pos["quantity"]), parse_decimal(pos["avg_price"])
                if qty is None or avg is None:
                    raise ValueError(f"bad position for {symbol!r}")
                if qty != 0:
                    self.positions[str(symbol)] = {"quantity": qty, "avg_price": avg}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            warn(f"account file {path} unreadable ({exc}); moved to {aside.name}, starting empty")
            os.replace(path, aside)
            self.positions = {}

    def apply_fill(self, symbol: str, signed_qty: Decimal, price: float) -> None:
        """Book a fill like a broker: average price moves only when a position grows or flips."""
        pos = self.positions.get(symbol, {"quantity": Decimal(0), "avg_price": Decimal(0)})
        old_qty, old_avg, px = pos["quantity"], pos["avg_price"], Decimal(str(price))
        new_qty = old_qty + signed_qty
        if new_qty == 0:
            self.positions.pop(symbol, None)
        else:
            if old_qty == 0 or (old_qty > 0) != (new_qty > 0):
                avg = px  # opened or flipped: the new position's cost is this fill
            elif abs(new_qty) > abs(old_qty):
                avg = (old_avg * abs(old_qty) + px * abs(signed_qty)) / abs(new_qty)
            else:
                avg = old_avg  # reducing keeps the cost of what remains
            self.positions[symbol] = {"quantity": new_qty, "avg_price": avg.quantize(QTY_PLACES)}
        self.save()

    def save(self) -> None:
        """Write the account atomically so a crash never leaves half a file."""
        atomic_write_json(
            self.path,
            {
                symbol: {"quantity": json_number(pos["quantity"]), "avg_price": json_number(pos["avg_price"])}
                for symbol, pos in sorted(self.positions.items())
            },
        )

    def holdings(self) -> list[dict[str, Any]]:
        """Holdings in the contract's holdings-line shape, sorted by symbol."""
        return [
            {
                "symbol": symbol,
                "quantity": json_number(pos["quantity"]),
                "avg_price": json_number(pos["avg_price"]),
            }
            for symbol, pos in sorted(self.positions.items())
        ]


@dataclass
class Order:
    """One order of this run and its fill schedule."""

    order_id: int
    tag: str
    symbol: str
    quantity: Decimal  # signed: BUY positive, SELL negative
    order_type: str  # "Market" | "MarketOnOpen" | "Limit" | "StopMarket" | "StopLimit"
    limit_price: float | None
    parts: list[Decimal]  # remaining absolute fill sizes
    next_attempt: float  # monotonic time of the next fill attempt
    status: str = "Submitted"
    stop_price: float | None = None
    triggered: bool = False  # a stop order's stop was reached: it now works as a market / limit order
    filled: Decimal = Decimal(0)  # signed running total
    last_event_id: int = 0

    @property
    def working(self) -> bool:
        """Still able to fill or be canceled."""
        return self.status in WORKING


# --------------------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------------------


class Simulator:
    """The engine loop: intent at start, command files, fills, holdings lines, idle exit."""

    def __init__(self, config: SimulatorConfig) -> None:
        """Prepare state; nothing is written until run()."""
        self.config = config
        self.prices = PriceBook(config.seed, config.reference_prices)
        self.account = Account(config.workdir / ACCOUNT_FILE)
        self.orders: dict[int, Order] = {}
        self.next_order_id = 1
        self.stop_signal: str | None = None
        self.undeletable: set[str] = set()
        self.last_activity = time.monotonic()
        self.next_holdings = 0.0
        self.holdings_snapshots = (
            0  # numbers this run's snapshots, so the parts of a split one belong together
        )
        self.next_prices = 0.0

    # ---- writing -----------------------------------------------------------------------------------

    def append_line(self, payload: dict[str, Any]) -> None:
        """Append one JSON line with a single write, opening the file each time so a replaced file is used."""
        data = encode_line(payload)
        # Unbuffered append: the whole line goes to the OS in one write() and is visible at once.
        with open_events_for_append(self.config.events_file) as handle:
            written = handle.write(data)
            while written is not None and written < len(data):  # a short write is rare but possible
                more = handle.write(data[written:])
                written += more or 0

    def close_torn_line(self) -> None:
        """Close a line torn by a crashed run, so it cannot swallow this run's first line."""
        path = self.config.events_file
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.stat().st_size == 0:
            return
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            last = handle.read(1)
        if last != b"\n":
            log(f"events file {path.name} ends in a torn line; closing it with a newline")
            with open_events_for_append(path) as handle:
                handle.write(b"\n")

    def engine_line(self, status: str, **extra: Any) -> None:
        """A lifecycle line (no tag, so tradedesk never mistakes it for an order event)."""
        self.append_line(
            {
                "type": "engine",
                "status": status,
                "run_id": self.config.run_id,
                "time": utc_now_iso(),
                "engine": ENGINE_NAME,
                "pid": os.getpid(),
                **extra,
            }
        )

    def holdings_line(self) -> None:
        """The account's holdings, for tradedesk's reconciliation against its ledger (in parts over the cap)."""
        self.holdings_snapshots += 1
        line = {
            "type": "holdings",
            "run_id": self.config.run_id,
            "time": utc_now_iso(),
            "holdings": self.account.holdings(),
        }
        try:
            parts = split_holdings_line(
                line, snapshot=self.holdings_snapshots, max_line_bytes=self.config.max_line_bytes
            )
        except ValueError as exc:
            self.engine_line("error", message=f"holdings: {exc}")
            parts = []
        for part in parts:
            self.append_line(part)
        # A non-positive interval means "at start only" rather than a line at every poll.
        interval = self.config.holdings_interval
        self.next_holdings = time.monotonic() + interval if interval > 0 else math.inf

    def prices_snapshot(self) -> None:
        """Replace prices.json: one step of the walk of each held symbol and each working order's symbol."""
        symbols = set(self.account.positions) | {o.symbol for o in self.orders.values() if o.working}
        prices = []
        for symbol in sorted(symbols):
            last = self.prices.next_price(symbol)
            bid, ask = max(0.01, round(last - 0.01, 2)), round(last + 0.01, 2)
            prices.append({"symbol": symbol, "last": last, "bid": bid, "ask": ask})
        snapshot = {"run_id": self.config.run_id, "time": utc_now_iso(), "prices": prices}
        atomic_write_json(self.config.events_file.parent / PRICES_FILE, snapshot)
        self.next_prices = time.monotonic() + self.config.prices_interval

    def order_event(
        self,
        order_id: int,
        tag: str,
        symbol: str,
        status: str,
        event_id: int,
        *,
        filled: Decimal = Decimal(0),
        fill_price: float = 0.0,
        message: str = "",
    ) -> None:
        """One order event line in exactly the contract's fields."""
        fee = fee_for(filled) if filled > 0 else 0
        self.append_line(
            {
                "tag": tag,
                "status": status,
                "order_id": order_id,
                "event_id": event_id,
                "run_id": self.config.run_id,
                "symbol": symbol,
                "time": utc_now_iso(),
                "filled": json_number(filled),
                "fill_price": json_number(fill_price),
                "fee": fee,
                "fee_currency": "USD",
                "message": message,
            }
        )
        self.last_activity = time.monotonic()

    def emit(self, order: Order, status: str, **kwargs: Any) -> None:
        """An event of a placed order, with the order's next event id."""
        order.last_event_id += 1
        order.status = status
        self.order_event(order.order_id, order.tag, order.symbol, status, order.last_event_id, **kwargs)

    # ---- orders ------------------------------------------------------------------------------------

    def place_order(
        self,
        tag: str,
        symbol: Any,
        quantity: Decimal,
        order_type: str,
        limit_price: Decimal | None,
        security_type: str = "Equity",
        submitted_message: str = "",
        stop_price: Decimal | None = None,
    ) -> tuple[bool, str]:
        """Validate and place an order like LEAN: an order id always, Submitted or Invalid as its event."""
        order_id = self.next_order_id
        self.next_order_id += 1
        symbol_text = symbol if isinstance(symbol, str) else ("" if symbol is None else str(symbol))
        error = ""
        if not isinstance(symbol, str) or not SYMBOL_RE.fullmatch(symbol):
            error = f"Invalid symbol {symbol_text!r}: expected ^[A-Z][A-Z0-9.]{{0,14}}$"
        elif self.config.universe is not None and symbol not in self.config.universe:
            # IB answers an unknown contract with error 200 ("No security definition has been found").
            error = f"Invalid order: unknown contract {symbol} (no security definition found)"
        elif security_type != "Equity":
            error = f"Security type {security_type} is not supported by the simulator (Equity only)"
        elif quantity == 0:
            error = "Order quantity must not be zero"
        elif order_type not in SUPPORTED_ORDER_TYPES:
            error = f"Order type {order_type} is not supported by the simulator ({', '.join(SUPPORTED_ORDER_TYPES)})"
        elif order_type in ("Limit", "StopLimit") and (limit_price is None or limit_price <= 0):
            error = f"{order_type} order needs a positive limit price, got {limit_price}"
        elif order_type in ("StopMarket", "StopLimit") and (stop_price is None or stop_price <= 0):
            error = f"{order_type} order needs a positive stop price, got {stop_price}"
        if error:
            self.order_event(order_id, tag, symbol_text, "Invalid", 1, message=error)
            log(f"order {order_id} [{tag}] invalid: {error}")
            return False, f"Order {order_id} invalid: {error}"
        order = Order(
            order_id=order_id,
            tag=tag,
            symbol=symbol_text,
            quantity=quantity,
            order_type=order_type,
            limit_price=float(limit_price) if limit_price is not None and "Limit" in order_type else None,
            parts=split_quantity(abs(quantity), self.config.partial_fills),
            next_attempt=time.monotonic() + self.config.fill_delay,
            stop_price=float(stop_price) if stop_price is not None and "Stop" in order_type else None,
        )
        self.orders[order_id] = order
        self.emit(order, "Submitted", message=submitted_message)
        side = "BUY" if quantity > 0 else "SELL"
        limit = f" @ {order.limit_price}" if order.limit_price is not None else ""
        limit = (f" stop {order.stop_price}" if order.stop_price is not None else "") + limit
        description = f"{order_type} {side} {json_number(abs(quantity))} {symbol_text}{limit}"
        log(f"order {order_id} [{tag}] submitted: {description}")
        return True, f"Order {order_id} submitted: {description}"

    def cancel_order(self, order_id: int) -> tuple[bool, str, Decimal]:
        """Cancel a working order of this run; anything else is refused with a reason."""
        order = self.orders.get(order_id)
        if order is None:
            return False, f"Order {order_id} is not an order of run {self.config.run_id}", Decimal(0)
        if not order.working:
            return False, f"Order {order_id} is already {order.status}", order.filled
        self.emit(order, "Canceled", message="Canceled by CancelOrderCommand")
        log(f"order {order_id} [{order.tag}] canceled after {json_number(order.filled)} filled")
        return True, f"Order {order_id} canceled", order.filled

    def update_order(
        self, order_id: int, quantity: Decimal | None, limit: Decimal | None, stop: Decimal | None
    ) -> tuple[bool, str]:
        """Change a working order's quantity / limit / stop like LEAN's UpdateOrder; UpdateSubmitted confirms it.

        As LEAN's Order.ApplyUpdateOrderRequest: a limit only changes an order that has one, a stop likewise;
        the quantity is the signed total and must keep the side and stay above what is filled."""
        order = self.orders.get(order_id)
        if order is None:
            return False, f"Order {order_id} is not an order of run {self.config.run_id}"
        if not order.working:
            return False, f"Order {order_id} is already {order.status}"
        if quantity is not None:
            if quantity == 0 or (quantity > 0) != (order.quantity > 0):
                return False, f"Order {order_id}: quantity {quantity} is zero or of the other side"
            if abs(quantity) <= abs(order.filled):
                return False, f"Order {order_id}: quantity {quantity} is not above the {order.filled} filled"
        for name, value in (("limit", limit), ("stop", stop)):
            if value is not None and value <= 0:
                return False, f"Order {order_id}: {name} price {value} must be positive"
        if quantity is not None:
            order.quantity = quantity
            order.parts = split_quantity(abs(quantity) - abs(order.filled), max(len(order.parts), 1))
        if limit is not None and order.limit_price is not None:
            order.limit_price = float(limit)
        if stop is not None and order.stop_price is not None:
            order.stop_price = float(stop)
        changes = f"quantity {json_number(order.quantity)} limit {order.limit_price} stop {order.stop_price}"
        self.emit(order, "UpdateSubmitted", message=f"Updated by UpdateOrderCommand: {changes}")
        log(f"order {order_id} [{order.tag}] updated: {changes}")
        return True, f"Order {order_id} updated"

    def work_orders(self) -> None:
        """Attempt the fills that are due: a MKT part fills at the next price, a LMT part when crossed.

        A stop order first waits for its stop: a buy stop triggers at a price at or above it, a sell stop at
        or below it; from then on a StopMarket fills like a market order, a StopLimit like a limit order.
        """
        now = time.monotonic()
        for order in list(self.orders.values()):
            if not order.working or now < order.next_attempt:
                continue
            if order.order_type == "MarketOnOpen" and not self.market_open():
                continue  # waits for the next open, as IB holds it
            price = self.prices.next_price(order.symbol)
            buy = order.quantity > 0
            if order.stop_price is not None and not order.triggered:
                if not (price >= order.stop_price if buy else price <= order.stop_price):
                    order.next_attempt = now + self.config.fill_delay
                    continue
                order.triggered = True
                log(f"order {order.order_id} [{order.tag}] stop {order.stop_price} triggered at {price}")
            if order.limit_price is not None:
                crossed = price <= order.limit_price if buy else price >= order.limit_price
                if not crossed:
                    continue  # checked again at the next poll
                # At the limit or better: the market price is already on the good side of the limit.
                price = min(price, order.limit_price) if buy else max(price, order.limit_price)
            part = order.parts.pop(0)
            order.filled += part if buy else -part
            self.account.apply_fill(order.symbol, part if buy else -part, price)
            status = "Filled" if not order.parts else "PartiallyFilled"
            self.emit(order, status, filled=part, fill_price=price)
            fill = f"{json_number(part)} {order.symbol} @ {price}"
            log(f"order {order.order_id} [{order.tag}] {status}: {fill}")
            order.next_attempt = now + self.config.fill_delay

    # ---- intent and commands -------------------------------------------------------------------------

    def place_intent(self, path: Path) -> None:
        """Place the order of the intent file handed over at start (tradedesk's order intent format)."""
        try:
            intent = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(intent, dict):
                raise ValueError("intent is not a JSON object")
        except (OSError, ValueError) as exc:
            warn(f"intent file {path} unreadable: {exc}; no order placed")
            return
        tag = intent.get("order_intent_id")
        if not isinstance(tag, str) or not tag:
            warn(f"intent file {path} has no order_intent_id; no order placed")
            return
        quantity = parse_decimal(intent.get("quantity"))
        kind = str(intent.get("order_type") or "").upper()
        kind = " ".join(kind.split())
        order_type = INTENT_ORDER_TYPES.get(kind, kind or "(none)")
        limit = parse_decimal(intent.get("limit_price"))
        stop = parse_decimal(intent.get("stop_price"))
        submitted_message = ""
        if order_type == "Market" and quantity is not None:
            # LEAN's MarketOrder path: closed market -> MarketOnOpen when IB accepts it, else refused.
            route, submitted_message = market_hours.route_at(
                now=market_hours.clock(self.config.clock), hours=self.config.market_hours
            )
            if route == market_hours.REFUSED:
                order_id = self.next_order_id
                self.next_order_id += 1
                symbol = str(intent.get("symbol") or "")
                self.order_event(order_id, tag, symbol, "Invalid", 1, message=submitted_message)
                log(f"intent {tag}: {submitted_message}")
                return
            order_type = route
        if quantity is None:
            # With a tag tradedesk can match, a bad quantity is reported as an Invalid order, not dropped.
            order_id = self.next_order_id
            self.next_order_id += 1
            message = f"Invalid order quantity {intent.get('quantity')!r}"
            self.order_event(order_id, tag, str(intent.get("symbol") or ""), "Invalid", 1, message=message)
            log(f"intent {tag}: {message}")
            return
        self.place_order(
            tag,
            intent.get("symbol"),
            quantity,
            order_type,
            limit,
            stop_price=stop,
            submitted_message=submitted_message,
        )

    def run_command(self, command: Any) -> tuple[str, bool, str, dict[str, Any]]:
        """Execute one command object; returns (CommandName, Success, Message, extra result fields)."""
        if not isinstance(command, dict):
            raise InvalidCommand("command is not a JSON object")
        type_name = str(command.get("$type") or "").split(",")[0].strip()
        # Newtonsoft matches property names case-insensitively, so "quantity" works in LEAN too.
        command = {str(key).lower(): value for key, value in command.items()}
        short = type_name.rsplit(".", 1)[-1] or "Unknown"
        if type_name == "QuantConnect.Commands.OrderCommand":
            quantity = parse_decimal(command.get("quantity"))
            if quantity is None:
                return short, False, f"Invalid Quantity {command.get('quantity')!r}", {}
            order_type = command.get("ordertype", "Market")
            if isinstance(order_type, int) and not isinstance(order_type, bool):
                order_type = LEAN_ORDER_TYPES.get(order_type, str(order_type))
            order_type = {name.lower(): name for name in SUPPORTED_ORDER_TYPES}.get(
                str(order_type).lower(), str(order_type)
            )
            security = command.get("securitytype", "Equity")
            if isinstance(security, int) and not isinstance(security, bool):
                security = LEAN_SECURITY_TYPES.get(security, str(security))
            security = "Equity" if str(security).lower() == "equity" else str(security)
            limit = parse_decimal(command.get("limitprice"))
            stop = parse_decimal(command.get("stopprice"))
            tag = command.get("tag")
            ok, message = self.place_order(
                "" if tag is None else str(tag),
                command.get("ticker"),
                quantity,
                order_type,
                limit if order_type in ("Limit", "StopLimit") else None,
                security,
                submitted_message=market_hours.MOO_MESSAGE if order_type == "MarketOnOpen" else "",
                stop_price=stop if order_type in ("StopMarket", "StopLimit") else None,
            )
            return short, ok, message, {}
        if type_name == "QuantConnect.Commands.CancelOrderCommand":
            order_id = parse_decimal(command.get("orderid"))
            if order_id is None or order_id != order_id.to_integral_value():
                return short, False, f"Invalid OrderId {command.get('orderid')!r}", {"QuantityFilled": 0}
            ok, message, filled = self.cancel_order(int(order_id))
            return short, ok, message, {"QuantityFilled": json_number(filled)}
        if type_name == "QuantConnect.Commands.UpdateOrderCommand":
            order_id = parse_decimal(command.get("orderid"))
            if order_id is None or order_id != order_id.to_integral_value():
                return short, False, f"Invalid OrderId {command.get('orderid')!r}", {}
            values = [parse_decimal(command.get(key)) for key in ("quantity", "limitprice", "stopprice")]
            ok, message = self.update_order(int(order_id), *values)
            return short, ok, message, {}
        return short, False, f"Command type {type_name or '(missing $type)'} is not supported", {}

    def write_result(
        self, command_id: str, name: str, success: bool, message: str, extra: dict[str, Any]
    ) -> None:
        """Acknowledge a command the way LEAN's FileCommandHandler does: result-command-<Id>.json."""
        if not SAFE_ID_RE.fullmatch(command_id):
            warn(f"command Id {command_id!r} is not safe for a file name; no result file written")
            return
        packet = {
            "$type": RESULT_PACKET_TYPE,
            "Id": command_id,
            "CommandName": name,
            "Success": success,
            "Message": message,
            "Type": "CommandResult",
            "Channel": "",
            **extra,
        }
        atomic_write_json(self.config.workdir / f"{RESULT_PREFIX}{command_id}.json", packet)

    def process_command_file(self, path: Path) -> None:
        """Read, delete (always, as LEAN does), execute and acknowledge one command file."""
        log(f"reading command file {path.name}")
        try:
            raw: bytes | None = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            warn(f"command file {path.name} unreadable: {exc}")
            raw = None
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            # A command that cannot be deleted would run again at every poll: never execute it.
            warn(f"command file {path.name} cannot be deleted ({exc}); ignoring it")
            self.undeletable.add(path.name)
            return
        self.last_activity = time.monotonic()
        if raw is None:
            return
        try:
            parsed = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            sniffed = ID_SNIFF_RE.search(raw)
            if sniffed is None:
                warn(f"command file {path.name} is not valid JSON ({exc}) and has no Id; dropped")
                return
            command_id = sniffed.group(1).decode("ascii")
            warn(f"command file {path.name} is not valid JSON ({exc}); answering Id {command_id}")
            self.write_result(command_id, "Unknown", False, f"Command file is not valid JSON: {exc}", {})
            return
        # LEAN accepts a single command or a list of them in one file.
        for command in parsed if isinstance(parsed, list) else [parsed]:
            ids = (
                [v for k, v in command.items() if str(k).lower() == "id"] if isinstance(command, dict) else []
            )
            command_id = str(ids[0]) if ids and ids[0] is not None else ""
            try:
                name, ok, message, extra = self.run_command(command)
            except InvalidCommand as exc:
                name, ok, message, extra = "Unknown", False, str(exc), {}
            log(f"command {command_id or '(no Id)'} {name}: {'ok' if ok else 'failed'}: {message}")
            if command_id:
                self.write_result(command_id, name, ok, message, extra)
            else:
                warn(f"command in {path.name} has no Id; no result file written")

    def poll_commands(self) -> None:
        """Handle every command*.json in the working directory, in name order like LEAN."""
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(self.config.workdir)
                if fnmatch.fnmatchcase(entry.name, COMMAND_PATTERN)
                and entry.is_file()
                and entry.name not in self.undeletable
            )
        except OSError as exc:
            warn(f"cannot list {self.config.workdir}: {exc}")
            return
        for name in names:
            self.process_command_file(self.config.workdir / name)

    # ---- lifecycle ---------------------------------------------------------------------------------

    def market_open(self) -> bool:
        """Whether the simulated exchange is open now (or at the configured fixed clock)."""
        return market_hours.exchange_open_at(
            now=market_hours.clock(self.config.clock), hours=self.config.market_hours
        )

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        """Signal handler: only flags the stop, the loop writes the stopped line between steps."""
        self.stop_signal = signal.Signals(signum).name

    def stop(self, reason: str, **extra: Any) -> None:
        """Cancel what still works (the simulated broker dies with the run), a last holdings line, stopped."""
        for order in self.orders.values():
            if order.working:
                self.emit(order, "Canceled", message=f"Canceled: simulator stopped ({reason})")
        self.holdings_line()
        self.engine_line("stopped", reason=reason, **extra)
        log(f"stopped ({reason})")

    def run(self) -> int:
        """The engine's life: start lines, the intent, then the poll loop until idle or a signal."""
        cfg = self.config
        self.account.load()
        self.close_torn_line()
        self.engine_line("started")
        log(f"started run {cfg.run_id} pid {os.getpid()} in {cfg.workdir} (seed {cfg.seed})")
        self.holdings_line()
        if cfg.intent_file is not None:
            self.place_intent(cfg.intent_file)
        self.last_activity = time.monotonic()
        while True:
            if self.stop_signal:
                self.stop("signal", signal=self.stop_signal)
                return 0
            self.poll_commands()
            self.work_orders()
            now = time.monotonic()
            if now >= self.next_holdings:
                self.holdings_line()
            if cfg.prices_interval > 0 and now >= self.next_prices:
                self.prices_snapshot()
            working = any(order.working for order in self.orders.values())
            if cfg.idle_timeout > 0 and not working and now - self.last_activity >= cfg.idle_timeout:
                self.stop("idle")
                return 0
            time.sleep(cfg.poll_interval)


def report_config_error(config_path: Path, message: str) -> None:
    """Best effort: put a config error into the events file too, if the config names one."""
    try:
        config_path = config_path.resolve()
        params = json.loads(config_path.read_text(encoding="utf-8-sig"))["parameters"]
        events = Path(str(params["events-file"]))
        events = events if events.is_absolute() else config_path.parent / events
        line = {
            "type": "engine",
            "status": "error",
            "run_id": str(params.get("run-id") or ""),
            "time": utc_now_iso(),
            "engine": ENGINE_NAME,
            "pid": os.getpid(),
            "message": message,
        }
        data = json.dumps(line).encode("utf-8") + b"\n"
        if events.exists() and events.stat().st_size > 0:
            with open(events, "rb") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    data = b"\n" + data  # close a torn line first, as at a normal start
        with open_events_for_append(events) as handle:
            handle.write(data)
    except (OSError, ValueError, TypeError, KeyError):
        pass  # nothing usable in the config: stderr (engine.log) already has the reason


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: load the config, run the engine, report a crash as an engine error line."""
    parser = argparse.ArgumentParser(
        prog="python -m execution.simulator",
        description="Built-in simulator engine (LEAN at the file boundary).",
    )
    parser.add_argument("--config", required=True, type=Path, help="the engine's config.json")
    args = parser.parse_args(argv)
    try:
        config = SimulatorConfig.load(args.config)
    except (OSError, ValueError, TypeError) as exc:
        warn(f"cannot load config {args.config}: {exc}")
        report_config_error(args.config, f"cannot load config: {type(exc).__name__}: {exc}")
        return 2
    engine = Simulator(config)
    handler: Callable[[int, FrameType | None], None] = engine.request_stop
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    try:
        return engine.run()
    except Exception as exc:  # any crash must still leave an error line for tradedesk
        traceback.print_exc()
        try:
            engine.engine_line("error", message=f"{type(exc).__name__}: {exc}")
        except Exception as write_exc:  # the events file itself may be the problem
            warn(f"could not write the error line: {write_exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
