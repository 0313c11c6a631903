"""The simulator's constants and small helpers (standard library only, like the whole package)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from execution.contract.files import write_json_atomic
from execution.contract.messages import LEAN_ORDER_TYPE_NAMES
from execution.contract.times import contract_time

ENGINE_NAME = "simulator"
ACCOUNT_FILE = "simulator-account.json"
# The simulated broker's working orders (and its next order id): kept across the simulator's restarts, as IB
# keeps an account's open orders when LEAN stops.
BROKER_ORDERS_FILE = "simulator-orders.json"
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
SUPPORTED_ORDER_TYPES = (
    "Market",
    "MarketOnOpen",
    "MarketOnClose",
    "Limit",
    "StopMarket",
    "StopLimit",
    "TrailingStop",
    "LimitIfTouched",
)
# An intent's order type (tradedesk's, upper case) -> LEAN's name: the order command's one table.
INTENT_ORDER_TYPES = LEAN_ORDER_TYPE_NAMES


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


def utc_now_iso() -> str:
    """Now in the contract's time format."""
    return contract_time()


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
    """The simulator's files as LEAN writes its own: the contract's atomic write, one line, the umask's mode.

    Never flushed to disk: LEAN writes its command results with a plain File.WriteAllText
    (Common/Commands/FileCommandHandler.cs:85@24863901), and the simulator's events lines are not flushed
    either, so an fsync of its results, snapshots or book would buy no order of writes across a machine's
    crash, only a few milliseconds (tens on a busy disk) before every Submitted and Filled line."""
    write_json_atomic(path, payload, mode=None, indent=None, fsync=False)


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

    The same rule in the simulator and the LEAN algorithm (tests/execution/simulator/test_holdings_split.py): every part
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
