"""Lines of an events file -> events: decoding, the contract's checks per line, batches and their report."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson

from execution.contract import (
    BRACKET_RESIZE_KEY,
    BRACKET_RESIZE_STATUS,
    LEAN_STATUS_MAP,
    RUN_BOUNDARIES,
    UPDATE_REFUSED_KEY,
    UPDATE_REFUSED_STATUS,
    event_identity,
)
from execution.ingest.files import (
    EXCERPT_BYTES,
)
from orders.models import MONEY_PLACES, PRICE_PLACES, QTY_PLACES
from orders.services import LedgerEvent

logger = logging.getLogger("execution.ingest.events")


# Quantized numbers already seen (fees, quantities and prices repeat): a dict hit instead of Decimal work.
_NUMBERS: dict[tuple[int | float, Decimal], Decimal] = {}
MAX_NUMBER = 1e12


# A NUL can only reach a decoded value through the JSON escape \u0000 (a raw NUL byte is not JSON): lines
# without this byte string skip the walk over the decoded value (a hit is confirmed by the walk).
_NUL_ESCAPE = b"\\u0000"


# orjson reads integers beyond 64 bits as floats where json.loads keeps them exact. That changes nothing for
# an event with its (run_id, order_id, event_id) identity (the payload is stored from the line's text, and the
# numbers parse_event reads are bounded either way); an event identified by the hash of its whole JSON whose
# line holds such a run of digits is decoded again by json.loads.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


# Bad lines whose reason goes into the batch's one log line (all of them are counted).
BAD_SAMPLES = 5


class BadLine(ValueError):
    """A line that breaks the contract; counted and logged, never applied."""


@dataclass
class IngestReport:
    """What one ingest did."""

    files: int = 0
    lines_read: int = 0
    applied: int = 0
    duplicates: int = 0
    bad: int = 0
    unmatched: int = 0
    ignored: int = 0
    blank: int = 0
    engine_lines: int = 0
    holdings_lines: int = 0
    fills: int = 0
    resets: int = 0
    pending_bytes: int = 0
    rotations: int = 0
    skipped_files: int = 0
    # Files whose ingest stopped at its batch bound (a read's inline ingest) with complete lines left.
    unfinished: int = 0
    orders_changed: set[int] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why the ingest did not read it
    bad_samples: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Counts only (for JSON and the command's output)."""
        data = {k: v for k, v in self.__dict__.items() if isinstance(v, int)}
        data["orders_changed"] = len(self.orders_changed)
        return data

    def absorb(self, other: IngestReport) -> None:
        """Add another report's counts to this one."""
        for name, value in other.__dict__.items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.orders_changed |= other.orders_changed
        self.skipped.update(other.skipped)
        self.bad_samples.extend(other.bad_samples[: max(0, BAD_SAMPLES - len(self.bad_samples))])

    def note_bad(self, line: int, reason: str) -> None:
        """Count a bad line; the first few reasons go into the batch's log line (never a line per event)."""
        self.bad += 1
        if len(self.bad_samples) < BAD_SAMPLES:
            self.bad_samples.append((line, reason))


_NUMBERS_MAX = 1 << 16


def _number(event: dict[str, Any], name: str, places: Decimal) -> Decimal | None:
    """A contract number: absent/null, or a finite JSON number >= 0 (never repaired)."""
    value = event.get(name)
    if value is None:
        return None
    kind = type(value)
    if (
        kind is not int
        and kind is not float
        and (isinstance(value, bool) or not isinstance(value, int | float))
    ):
        raise BadLine(f"{name} is not a JSON number: {value!r}")
    cached = _NUMBERS.get((value, places))
    if cached is not None:
        return cached
    if isinstance(value, float) and not math.isfinite(value):
        raise BadLine(f"{name} is not finite: {value!r}")
    if value < 0:
        raise BadLine(f"{name} is negative: {value!r}")
    if value > MAX_NUMBER:
        raise BadLine(f"{name} is out of range: {value!r}")
    result = Decimal(repr(value) if isinstance(value, float) else value).quantize(
        places, rounding=ROUND_HALF_EVEN
    )
    if len(_NUMBERS) < _NUMBERS_MAX:
        _NUMBERS[(value, places)] = result
    return result


def _integer(event: dict[str, Any], name: str) -> int | None:
    if name not in event or event[name] is None:
        return None
    value = event[name]
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
        raise BadLine(f"{name} is not an integer: {value!r}")
    return value


def _time(event: dict[str, Any]) -> datetime | None:
    value = event.get("time")
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadLine(f"time is not a string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadLine(f"time is not ISO 8601: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _has_nul(value: Any) -> bool:
    """True when a NUL character hides in any string or key of a decoded JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def broker_ids(value: Any) -> tuple[str, ...]:
    """The line's `broker_ids` (LEAN's Order.BrokerId, a list of strings): absent is none; numbers become text."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 16:
        raise BadLine(f"broker_ids is not a list of ids: {value!r}"[:200])
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item) or len(str(item)) > 64:
            raise BadLine(f"broker_ids holds a bad id: {item!r}"[:200])
        ids.append(str(item))
    return tuple(ids)


def _stop_price(event: dict[str, Any]) -> Decimal | None:
    """A trailing stop's current stop on its line (absent elsewhere): a positive price, else a bad line."""
    stop = _number(event, "stop_price", PRICE_PLACES)
    if stop is not None and stop <= 0:
        raise BadLine(f"stop_price is not positive: {event.get('stop_price')!r}")
    return stop


def parse_event(event: dict[str, Any]) -> LedgerEvent:
    """A contract event dict -> LedgerEvent, or BadLine.

    An empty tag is an order the engine reloaded from the broker (the IB plugin never sends the tag to IB, so
    LEAN rebuilds such orders without one): it needs its run and order id, which the ingest resolves to the
    desk order re-homed to them (execution/ingest/reopen.py)."""
    tag = event.get("tag")
    if not isinstance(tag, str):
        raise BadLine("event has no tag")
    if not tag and not (
        isinstance(event.get("run_id"), str) and event.get("run_id") and _integer(event, "order_id")
    ):
        raise BadLine("event has no tag (and no run_id and order_id to find a re-homed order by)")
    status = event.get("status")
    if not isinstance(status, str) or not status:
        raise BadLine("event has no status")
    run_id = event.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise BadLine(f"run_id is not a string: {run_id!r}")
    filled = _number(event, "filled", QTY_PLACES)
    fill_price = _number(event, "fill_price", PRICE_PLACES)
    fee = _number(event, "fee", MONEY_PLACES)
    if filled is not None and filled > 0 and fill_price is None:
        raise BadLine("a fill without fill_price")
    refused = event.get(UPDATE_REFUSED_KEY, False)
    if not isinstance(refused, bool) or (refused and status != UPDATE_REFUSED_STATUS):
        raise BadLine(f"update_refused must be true only on an {UPDATE_REFUSED_STATUS} event")
    resize = event.get(BRACKET_RESIZE_KEY, False)
    if not isinstance(resize, bool) or (resize and status != BRACKET_RESIZE_STATUS):
        raise BadLine(f"bracket_resize must be true only on an {BRACKET_RESIZE_STATUS} event")
    try:
        key = event_identity(event)
    except (TypeError, ValueError):
        raise BadLine("event is not plain JSON") from None
    return LedgerEvent(
        key=key,
        tag=tag,
        status=status,
        payload=event,
        # The engine's mark, never the database's state at apply time: a refused update changes no status.
        target=None if refused else LEAN_STATUS_MAP.get(status),
        run_id=run_id or "",
        engine_order_id=_integer(event, "order_id"),
        engine_event_id=_integer(event, "event_id"),
        time=_time(event),
        filled=filled,
        fill_price=fill_price,
        fee=fee,
        fee_currency=_text(event, "fee_currency"),
        message=_text(event, "message"),
        broker_ids=broker_ids(event.get("broker_ids")),
        stop_price=_stop_price(event),
        update_refused=refused,
        bracket_resize=resize,
    )


@dataclass
class ParsedBatch:
    """Events in file order, cut into segments at holdings lines (and a run's started and stopped lines), plus
    the line-level counts."""

    segments: list[tuple[list[LedgerEvent], dict[str, Any] | None]] = field(
        default_factory=lambda: [([], None)]
    )
    report: IngestReport = field(default_factory=IngestReport)
    # (line number in the batch, reason, first bytes): stored for staff and logged once per batch.
    bad_lines: list[tuple[int, str, bytes]] = field(default_factory=list)
    # Every decoded line, in order (what apply_execution_events is handed as its `events`).
    objects: list[Any] = field(default_factory=list)
    # Segment index -> (line number, first bytes) of the holdings line that ends it: an unusable one is
    # refused with the batch's other bad lines when it is applied.
    holdings_lines: dict[int, tuple[int, bytes]] = field(default_factory=dict)

    def refuse(self, *, line: int, reason: str, raw: bytes) -> None:
        """Count a bad line and keep its reason and a capped excerpt (stored for staff, logged per batch)."""
        self.report.note_bad(line, reason)
        self.bad_lines.append((line, reason, raw[:EXCERPT_BYTES]))

    @property
    def events(self) -> list[LedgerEvent]:
        """Every event of the batch, in order."""
        return [event for events, _ in self.segments for event in events]

    def add(self, obj: Any, *, source: str, line: int, raw: bytes = b"", exact: bool = False) -> None:
        """Classify one decoded line: an event, an engine or holdings line, or a bad line.

        `raw` is the line's bytes (kept as a bad line's excerpt); `exact` says orjson decoded them, so they are
        JSON that decodes to exactly `obj`: a NUL is looked for there once instead of in every decoded value,
        and the text is stored as the payload. Nothing is logged per line: the batch logs once (log_batch)."""
        report = self.report
        self.objects.append(obj)
        try:
            if not isinstance(obj, dict):
                raise BadLine(f"not a JSON object but {type(obj).__name__}")
            kind = obj.get("type")
            if kind == "engine" and not obj.get("tag"):
                report.engine_lines += 1
                if obj.get("status") in RUN_BOUNDARIES:
                    # A run's start or end cuts a segment too: reconciliation drops a snapshot left incomplete.
                    self.segments[-1] = (self.segments[-1][0], obj)
                    self.segments.append(([], None))
            elif kind == "open_orders" and not obj.get("tag"):
                # The orders a new run reloaded from the broker: re-homed after the events before it, so the
                # untagged events after it find their desk order.
                report.engine_lines += 1
                self.holdings_lines[len(self.segments) - 1] = (line, raw[:EXCERPT_BYTES])
                self.segments[-1] = (self.segments[-1][0], obj)
                self.segments.append(([], None))
            elif kind == "holdings" and not obj.get("tag"):
                report.holdings_lines += 1
                self.holdings_lines[len(self.segments) - 1] = (line, raw[:EXCERPT_BYTES])
                self.segments[-1] = (self.segments[-1][0], obj)
                self.segments.append(([], None))
            elif (not exact or _NUL_ESCAPE in raw) and _has_nul(obj):
                raise BadLine("NUL character in the event (PostgreSQL cannot store it)")
            else:
                event = parse_event(obj)
                if exact:
                    event.payload_text = raw.decode("utf-8")
                self.segments[-1][0].append(event)
        except BadLine as exc:
            self.refuse(line=line, reason=str(exc), raw=raw)


def _loads(raw: bytes) -> tuple[Any, bool]:
    """The line decoded as json.loads decodes it, and whether orjson did it (most lines; 2-3x faster)."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # NaN, Infinity, 1e400, lone surrogates...: json.loads decides (and may accept)
        return json.loads(raw.decode("utf-8")), False
    if type(obj) is dict:
        run_id, order_id, event_id = obj.get("run_id"), obj.get("order_id"), obj.get("event_id")
        identified = type(run_id) is str and run_id and type(order_id) is int and type(event_id) is int
        if not identified and _LONG_DIGITS.search(raw) is not None:
            return json.loads(raw.decode("utf-8")), False
    return obj, True


def parse_lines(lines: Iterable[bytes], *, source: str = "") -> ParsedBatch:
    """Classify complete lines (without their line ending): events, engine and holdings lines, bad lines."""
    batch = ParsedBatch()
    report = batch.report
    add = batch.add
    for number, raw in enumerate(lines, start=1):
        report.lines_read += 1
        if not raw.strip():
            report.blank += 1
            continue
        try:
            obj, exact = _loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            batch.refuse(line=number, reason=f"not JSON: {exc.__class__.__name__}", raw=raw)
            continue
        add(obj, source=source, line=number, raw=raw, exact=exact)
    return batch


def log_batch(report: IngestReport, *, source: str) -> None:
    """The one log line of a batch: its counts (each event's outcome is in its stored row), a few bad lines."""
    level = logging.WARNING if report.bad or report.unmatched else logging.INFO
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "events batch",
            extra={
                "source": source,
                **{
                    k: v
                    for k, v in report.as_dict().items()
                    if k not in ("files", "resets", "pending_bytes", "unfinished")
                },
                "bad_lines": [f"{line}: {reason}" for line, reason in report.bad_samples],
            },
        )
