"""Ingest of the engines' events files: parse, identify, dedupe, then hand batches to orders.services."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, transaction

from execution import metrics
from execution.contract import LEAN_STATUS_MAP, event_identity
from execution.engines import MODES
from execution.event_files import (
    EXCERPT_BYTES,
    LineChunk,
    check_under_root,
    open_regular,
    read_lines,
    refusal_reason,
    rotated_sibling,
    scanned_events_files,
)
from execution.models import BadEventLine, EventFileCursor
from orders.models import MONEY_PLACES, PRICE_PLACES, QTY_PLACES
from orders.services import LedgerEvent, apply_engine_events

logger = logging.getLogger("execution.events")

BATCH_LINES = 5000
# Lines applied per savepoint inside a transaction; the time budget is checked between them.
APPLY_STEP = 500
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


# --------------------------------------------------------------------------------------------------------
# Parsing one event
# --------------------------------------------------------------------------------------------------------


# Quantized numbers already seen (fees, quantities and prices repeat): a dict hit instead of Decimal work.
_NUMBERS: dict[tuple[int | float, Decimal], Decimal] = {}
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


def parse_event(event: dict[str, Any]) -> LedgerEvent:
    """A contract event dict -> LedgerEvent, or BadLine."""
    tag = event.get("tag")
    if not isinstance(tag, str) or not tag:
        raise BadLine("event has no tag")
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
    try:
        key = event_identity(event)
    except (TypeError, ValueError):
        raise BadLine("event is not plain JSON") from None
    return LedgerEvent(
        key=key,
        tag=tag,
        status=status,
        payload=event,
        target=LEAN_STATUS_MAP.get(status),
        run_id=run_id or "",
        engine_order_id=_integer(event, "order_id"),
        engine_event_id=_integer(event, "event_id"),
        time=_time(event),
        filled=filled,
        fill_price=fill_price,
        fee=fee,
        fee_currency=_text(event, "fee_currency"),
        message=_text(event, "message"),
    )


# --------------------------------------------------------------------------------------------------------
# Lines -> events
# --------------------------------------------------------------------------------------------------------


@dataclass
class ParsedBatch:
    """Events in file order, cut into segments at holdings lines, plus the line-level counts."""

    segments: list[tuple[list[LedgerEvent], dict[str, Any] | None]] = field(
        default_factory=lambda: [([], None)]
    )
    report: IngestReport = field(default_factory=IngestReport)
    # (line number in the batch, reason, first bytes): stored for staff and logged once per batch.
    bad_lines: list[tuple[int, str, bytes]] = field(default_factory=list)

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
        try:
            if not isinstance(obj, dict):
                raise BadLine(f"not a JSON object but {type(obj).__name__}")
            kind = obj.get("type")
            if kind == "engine" and not obj.get("tag"):
                report.engine_lines += 1
            elif kind == "holdings" and not obj.get("tag"):
                report.holdings_lines += 1
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
                    k: v for k, v in report.as_dict().items() if k not in ("files", "resets", "pending_bytes")
                },
                "bad_lines": [f"{line}: {reason}" for line, reason in report.bad_samples],
            },
        )


def apply_parsed(batch: ParsedBatch, *, source: str, mode: str | None = None) -> IngestReport:
    """Apply a parsed batch (in the caller's transaction), segment by segment, and fold in the results.

    With `mode`, tags match only orders of that mode (the batch came from that mode's engine)."""
    from execution import reconcile

    report = batch.report
    for events, holdings in batch.segments:
        if events:
            result = apply_engine_events(events, source=source, mode=mode)
            report.applied += result.applied
            report.duplicates += result.duplicates
            report.unmatched += result.unmatched
            report.ignored += result.ignored
            report.fills += result.fills
            report.orders_changed |= result.orders_changed
        if holdings is not None:
            reconcile.record_holdings(holdings, source=source)
    return report


def apply_execution_events(
    events: list[dict[str, Any]], *, source: str = "api", mode: str | None = None
) -> IngestReport:
    """Apply event dicts (as an engine would write them); identity and dedupe exactly as for a file.

    Tags match by tag alone, or only orders of `mode` when given."""
    batch = ParsedBatch()
    for number, event in enumerate(events, start=1):
        batch.report.lines_read += 1
        batch.add(event, source=source, line=number, raw=repr(event)[:EXCERPT_BYTES].encode())
    with transaction.atomic():
        report = apply_parsed(batch, source=source, mode=mode)
        record_bad_lines([(None, reason, raw) for _, reason, raw in batch.bad_lines], source=source)
    log_batch(report, source=source)
    return report


def engine_mode_of(path: Path) -> str | None:
    """The mode whose engine writes this file (engines/<mode>/ under the execution root), else None."""
    engines_root = (Path(settings.TRADEDESK_EXECUTION_ROOT) / "engines").resolve()
    # The folder, not the file, is resolved: the file may be a symlink (refused later, never followed).
    folder = Path(path).parent.resolve()
    if folder.parent != engines_root:
        return None
    mode = folder.name
    return mode if mode in MODES else None


# --------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------


def _first_line_hash(fd: int) -> str:
    """SHA-256 of the file's first complete line ('' while there is none): part of the file's identity."""
    head = os.pread(fd, 1 << 16, 0)
    end = head.find(b"\n")
    if end < 0:
        return ""
    return hashlib.sha256(head[: end + 1]).hexdigest()


# Sizes seen at the end of a complete ingest, per path: a listing that finds them unchanged does no query.
_seen: dict[str, tuple[int, int, int, int]] = {}
_seen_lock = threading.Lock()
# The last refusal logged per path, so a file refused every second is logged when its reason changes.
_refused: dict[str, str] = {}


def _stat_key(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def record_bad_lines(bad: list[tuple[int | None, str, bytes]], *, source: str) -> None:
    """Store bad lines (byte offset, reason, capped excerpt) for the admin (the batch's log line counts them)."""
    if not bad:
        return
    BadEventLine.objects.bulk_create(
        [
            BadEventLine(
                source=source[:1000],
                offset=offset,
                reason=reason[:300],
                # PostgreSQL text cannot hold NUL: shown escaped, as the rest of the undecodable bytes.
                excerpt=raw[:EXCERPT_BYTES].decode("utf-8", "backslashreplace").replace("\x00", "\\x00"),
            )
            for offset, reason, raw in bad[: settings.TRADEDESK_BAD_LINES_KEPT_PER_BATCH]
        ]
    )


def _apply_lines(lines: list[bytes], *, source: str, mode: str | None) -> ParsedBatch:
    """Parse and apply lines; if the database refuses them, apply line by line so one line never blocks."""
    batch = parse_lines(lines, source=source)
    try:
        with transaction.atomic():
            apply_parsed(batch, source=source, mode=mode)
        return batch
    except DatabaseError:
        logger.exception(
            "batch refused by the database; applying its lines one by one", extra={"source": source}
        )
    whole = ParsedBatch()
    for number, line in enumerate(lines, start=1):
        single = parse_lines([line], source=source)
        try:
            with transaction.atomic():
                apply_parsed(single, source=source, mode=mode)
        except DatabaseError as exc:
            single.refuse(line=1, reason=f"refused by the database: {str(exc)[:200]}", raw=line)
        whole.report.absorb(single.report)
        whole.bad_lines.extend((number, reason, raw) for _, reason, raw in single.bad_lines)
    return whole


def _apply_chunk(
    chunk: LineChunk, start: int, *, source: str, mode: str | None
) -> tuple[IngestReport, int, bool]:
    """Apply a chunk's lines (in the caller's transaction) until the time budget is spent.

    Returns the report, the offset after the last line applied, and whether the whole chunk was applied.
    """
    report = IngestReport()
    deadline = time.monotonic() + settings.TRADEDESK_INGEST_TRANSACTION_SECONDS
    starts = [start, *chunk.ends[:-1]]
    bad: list[tuple[int | None, str, bytes]] = []
    done = 0
    while done < len(chunk.lines):
        step = chunk.lines[done : done + APPLY_STEP]
        batch = _apply_lines(step, source=source, mode=mode)
        report.absorb(batch.report)
        bad.extend((starts[done + number - 1], reason, raw) for number, reason, raw in batch.bad_lines)
        done += len(step)
        if done < len(chunk.lines) and time.monotonic() > deadline:
            break
    whole = done == len(chunk.lines)
    for index, line in chunk.too_long:
        if whole or index < done:
            report.note_bad(index, line.reason)
            report.lines_read += 1
            bad.append((line.offset, line.reason, line.excerpt))
    record_bad_lines(sorted(bad, key=lambda row: row[0] or 0), source=source)
    log_batch(report, source=source)
    offset = chunk.offset if whole else chunk.ends[done - 1]
    return report, offset, whole


def _drain(
    fd: int, key: str, *, batch_lines: int, mode: str | None, identity: tuple[int, int] | None = None
) -> IngestReport:
    """Ingest the complete lines of an open file from the cursor's offset, a transaction per batch.

    Reads happen outside the transaction (they never hold the database's write lock); the transaction
    re-checks that the cursor did not move meanwhile and applies within the time budget.
    """
    report = IngestReport()
    EventFileCursor.objects.bulk_create([EventFileCursor(path=key)], ignore_conflicts=True)
    while True:
        stat = os.fstat(fd)
        first_hash = _first_line_hash(fd)
        seen = EventFileCursor.objects.get(path=key)
        dev_ino = identity or (stat.st_dev, stat.st_ino)
        same_file = (seen.device, seen.inode) == dev_ino and seen.first_line_hash in ("", first_hash)
        start, discarding = seen.offset, seen.discarding
        reset = bool(seen.offset) and (not same_file or stat.st_size < seen.offset)
        if reset:
            start, discarding = 0, False
        chunk = read_lines(
            fd,
            start,
            max_lines=batch_lines,
            max_line_bytes=settings.TRADEDESK_EVENTS_MAX_LINE_BYTES,
            discarding=discarding,
        )
        with transaction.atomic():
            # The row lock serialises ingests of this file; a cursor moved by another ingest means re-read.
            cursor = EventFileCursor.objects.select_for_update().get(path=key)
            if (cursor.offset, cursor.device, cursor.inode, cursor.discarding) != (
                seen.offset,
                seen.device,
                seen.inode,
                seen.discarding,
            ):
                continue
            if reset:
                logger.warning(
                    "events file replaced or truncated; reading again from the start",
                    extra={"path": key, "offset": cursor.offset, "size": stat.st_size},
                )
                cursor.resets += 1
                report.resets += 1
            applied, new_offset, whole = _apply_chunk(chunk, start, source=key, mode=mode)
            report.absorb(applied)
            cursor.lines_read += applied.lines_read
            cursor.bad_lines += applied.bad
            cursor.offset = new_offset
            cursor.discarding = chunk.discarding if whole else False
            cursor.device, cursor.inode = dev_ino
            cursor.first_line_hash = first_hash
            cursor.save()
        metrics.ingest_batch_observe(
            applied=applied.applied,
            duplicates=applied.duplicates,
            unmatched=applied.unmatched,
            bad=applied.bad,
        )
        if whole and len(chunk.lines) < batch_lines:
            report.pending_bytes = max(0, stat.st_size - new_offset)
            if report.pending_bytes == 0:
                with _seen_lock:
                    _seen[key] = _stat_key(stat)
            return report


def _drain_rotated(path: Path, key: str, fd: int, *, batch_lines: int, mode: str | None) -> IngestReport:
    """Before reading a new file at `path`, finish the rotated one (`<name>.<suffix>`) the cursor was on."""
    cursor = EventFileCursor.objects.filter(path=key).first()
    if cursor is None or cursor.inode is None or cursor.device is None:
        return IngestReport()
    current = os.fstat(fd)
    if (current.st_dev, current.st_ino) == (cursor.device, cursor.inode):
        return IngestReport()
    rotated = rotated_sibling(path, device=cursor.device, inode=cursor.inode)
    if rotated is None:
        return IngestReport()
    old_fd = open_regular(rotated)
    try:
        report = _drain(
            old_fd, key, batch_lines=batch_lines, mode=mode, identity=(cursor.device, cursor.inode)
        )
    finally:
        os.close(old_fd)
    with transaction.atomic():
        cursor = EventFileCursor.objects.select_for_update().get(path=key)
        if (cursor.device, cursor.inode) != (current.st_dev, current.st_ino):
            cursor.offset, cursor.discarding, cursor.first_line_hash = 0, False, ""
            cursor.device, cursor.inode = current.st_dev, current.st_ino
            cursor.save()
    logger.info(
        "events file rotated; drained the previous file", extra={"path": key, "rotated": str(rotated)}
    )
    report.rotations += 1
    return report


def ingest_file(path: Path, *, batch_lines: int = BATCH_LINES) -> IngestReport:
    """Ingest the new complete lines of one events file where it is (never through a symlink)."""
    path = Path(os.path.abspath(path))
    key = str(path)
    # A line of an engine's own file can only be about an order of that engine's mode.
    mode = engine_mode_of(path)
    report = IngestReport(files=1)
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return report
    try:
        report.absorb(_drain_rotated(path, key, fd, batch_lines=batch_lines, mode=mode))
        report.absorb(_drain(fd, key, batch_lines=batch_lines, mode=mode))
    finally:
        os.close(fd)
    return report


def events_files() -> list[Path]:
    """Every engine's events file under the execution root (not resolved: symlinks are refused on open)."""
    return scanned_events_files()


def _skip(report: IngestReport, key: str, exc: OSError) -> None:
    reason = refusal_reason(exc)
    report.skipped_files += 1
    report.skipped[key] = reason
    if _refused.get(key) != reason:
        _refused[key] = reason
        logger.error("events file skipped", extra={"path": key, "reason": reason})


def ingest_execution_events(
    path: str | Path | None = None, *, force: bool = False, mode: str | None = None
) -> IngestReport:
    """Ingest one events file, or every engine's (of `mode` when given); each file on its own, so one bad
    file stops no other."""
    scanned = path is None
    paths = events_files() if path is None else [Path(path)]
    if scanned and mode:
        paths = [file_path for file_path in paths if file_path.parent.name == mode]
    total = IngestReport()
    for file_path in paths:
        key = os.path.abspath(file_path)
        try:
            if scanned:
                check_under_root(Path(key))
            stat = os.stat(key, follow_symlinks=False)
            with _seen_lock:
                unchanged = _seen.get(key) == _stat_key(stat)
            if unchanged and not force:
                continue
            total.absorb(ingest_file(Path(key)))
        except FileNotFoundError:
            continue
        except OSError as exc:
            _skip(total, key, exc)
            continue
        _refused.pop(key, None)
    if total.bad:
        logger.warning("ingest found bad lines", extra=total.as_dict())
    return total


def events_file_problems() -> dict[str, str]:
    """Why each engine's events file would be skipped now (mode -> reason), for the engines panel."""
    problems: dict[str, str] = {}
    for file_path in events_files():
        try:
            check_under_root(file_path)
            os.close(open_regular(file_path))
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems[file_path.parent.name] = refusal_reason(exc)
    return problems


def events_iter_lines(path: Path) -> Iterator[bytes]:
    """Every complete line of a file (for tools and tests)."""
    fd = open_regular(Path(path))
    try:
        offset = 0
        while True:
            chunk = read_lines(
                fd, offset, max_lines=BATCH_LINES, max_line_bytes=settings.TRADEDESK_EVENTS_MAX_LINE_BYTES
            )
            if chunk.offset == offset:
                return
            offset = chunk.offset
            yield from chunk.lines
    finally:
        os.close(fd)


def ingest_before_read() -> IngestReport:
    """Ingest-on-read, for listings that must not show a stale book: one stat per file when nothing grew.

    Only where the engine files are local (TRADEDESK_ENGINE_FILES_LOCAL); elsewhere beat ingests on the
    engine hosts."""
    if not settings.TRADEDESK_ENGINE_FILES_LOCAL:
        return IngestReport()
    return ingest_execution_events()
