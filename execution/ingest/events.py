"""Ingest of the engines' events files: parse, identify, dedupe, then hand batches to orders.services."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction

from execution import metrics
from execution.contract.folder import events_file_mode
from execution.ingest.apply import apply_execution_events
from execution.ingest.collector import collector_paused
from execution.ingest.files import (
    LineChunk,
    check_under_root,
    first_line_hash,
    open_regular,
    read_lines,
    refusal_reason,
    rotated_sibling,
    scanned_events_files,
)
from execution.ingest.lines import (
    BadLine,
    IngestReport,
    ParsedBatch,
    log_batch,
    parse_event,
    parse_lines,
)
from execution.ingest.read_ahead import ReadAhead
from execution.ingest.records import record_bad_lines
from execution.models import EventFileCursor

logger = logging.getLogger("execution.ingest.events")

BATCH_LINES = 5000
# What a read (the page's poll, the API's listings) ingests inline at most: one batch of this many lines. The
# rest is the ingest watcher's and beat's, so a burst or a file of junk never holds a web request.
READ_BATCH_LINES = 200
# Lines of the first step of a drain (its pace is not known yet); the time budget is checked between steps.
APPLY_STEP = 500
# A step is sized to fill this share of what is left of the budget at the pace measured so far; a transaction
# with less than TAIL_SHARE of its budget left commits instead of taking one more step. Each step locks and
# rewrites its orders once and sends every statement once: on a slow (loaded) machine a few large steps cost
# less per line than a run of ever smaller ones (0.5, 0.25, 0.125... of the budget).
STEP_SHARE = 0.8
TAIL_SHARE = 0.25


@dataclass
class _Pace:
    """Lines applied and seconds spent so far in one drain: sizes the next step to the time budget."""

    lines: int = 0
    seconds: float = 0.0

    def step(self, remaining: float, left: int) -> int:
        """Lines of the next step: APPLY_STEP until a pace is known, then what fits the remaining budget."""
        if self.seconds <= 0:
            return min(APPLY_STEP, left)
        return min(left, max(APPLY_STEP, int(self.lines / self.seconds * remaining * STEP_SHARE)))


# Sizes seen at the end of a complete ingest, per path: a listing that finds them unchanged does no query.
_seen: dict[str, tuple[int, int, int, int]] = {}
_seen_lock = threading.Lock()
# The last refusal logged per path, so a file refused every second is logged when its reason changes.
_refused: dict[str, str] = {}


def _stat_key(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _apply_lines(
    lines: list[bytes], *, source: str, mode: str | None, parsed: ParsedBatch | None = None
) -> ParsedBatch:
    """Parse (unless `parsed` is their parse already) and apply lines; if the database refuses them, find the
    refused lines so they never block."""
    batch = parsed or parse_lines(lines, source=source)
    try:
        # Through the public batch apply (looked up at call time): a file's batch and a list of dicts take
        # the one path.
        apply_execution_events(batch.objects, source=source, mode=mode, parsed=batch)
        return batch
    except DatabaseError:
        logger.exception(
            "batch refused by the database; halving it to find the refused lines", extra={"source": source}
        )
    return _apply_halves(lines, source=source, mode=mode)


def _apply_halves(lines: list[bytes], *, source: str, mode: str | None) -> ParsedBatch:
    """Apply each half of refused lines (in file order, each in its savepoint), halving again a refused one.

    One refused line among n costs about 2 log2(n) batches instead of n one-line batches."""
    whole = ParsedBatch()
    middle = len(lines) // 2
    for first, part in ((0, lines[:middle]), (middle, lines[middle:])):
        if not part:
            continue
        batch = parse_lines(part, source=source)
        try:
            apply_execution_events(batch.objects, source=source, mode=mode, parsed=batch)
        except DatabaseError as exc:
            if len(part) > 1:
                batch = _apply_halves(part, source=source, mode=mode)
            else:
                batch = parse_lines(part, source=source)
                batch.refuse(line=1, reason=f"refused by the database: {str(exc)[:200]}", raw=part[0])
        whole.report.absorb(batch.report)
        whole.bad_lines.extend((first + number, reason, raw) for number, reason, raw in batch.bad_lines)
    return whole


def _apply_chunk(
    chunk: LineChunk,
    start: int,
    *,
    source: str,
    mode: str | None,
    pace: _Pace | None = None,
    parsed: ParsedBatch | None = None,
) -> tuple[IngestReport, int, bool]:
    """Apply a chunk's lines (in the caller's transaction) until the time budget is spent.

    Steps are sized from the drain's measured pace: one step per chunk when the chunk fits the budget (each
    order row and statement once per chunk, not once per fixed-size step). `parsed` is the whole chunk's parse
    when a read-ahead made it (used when the first step is the whole chunk). Returns the report, the offset
    after the last line applied, and whether the whole chunk was applied.
    """
    report = IngestReport()
    pace = pace or _Pace()
    began = time.monotonic()
    budget = settings.TRADEDESK_INGEST_TRANSACTION_SECONDS
    deadline = began + budget
    starts = [start, *chunk.ends[:-1]]
    bad: list[tuple[int | None, str, bytes]] = []
    done = 0
    while done < len(chunk.lines):
        size = pace.step(deadline - began, len(chunk.lines) - done)
        step = chunk.lines[done : done + size]
        whole_parse = parsed if done == 0 and size == len(chunk.lines) else None
        batch = _apply_lines(step, source=source, mode=mode, parsed=whole_parse)
        now = time.monotonic()
        pace.lines, pace.seconds, began = pace.lines + len(step), pace.seconds + now - began, now
        report.absorb(batch.report)
        bad.extend((starts[done + number - 1], reason, raw) for number, reason, raw in batch.bad_lines)
        done += len(step)
        if done < len(chunk.lines) and deadline - now < budget * TAIL_SHARE:
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
    fd: int,
    key: str,
    *,
    batch_lines: int,
    mode: str | None,
    identity: tuple[int, int] | None = None,
    max_batches: int | None = None,
    cursor: EventFileCursor | None = None,
) -> IngestReport:
    """Ingest the complete lines of an open file from the cursor's offset, a transaction per batch (at most
    `max_batches` of them when given; the bytes left are the report's pending_bytes). `cursor` is the row as
    the caller just read it (its first batch does not read it again).

    Reads happen outside the transaction (they never hold the database's write lock); the transaction
    re-checks that the cursor did not move meanwhile and applies within the time budget. While a full chunk's
    transaction commits, the next chunk is read and parsed in a thread (ReadAhead), used only if the cursor
    then stands where it starts.
    """
    report = IngestReport()
    pace = _Pace()
    batches = 0
    ahead: ReadAhead | None = None
    max_line_bytes = settings.TRADEDESK_EVENTS_MAX_LINE_BYTES
    try:
        while True:
            stat = os.fstat(fd)
            first_hash = first_line_hash(fd)
            seen, cursor = cursor or EventFileCursor.objects.filter(path=key).first(), None
            if seen is None:  # the file's first ingest (a write only then, not at every wake-up or read)
                EventFileCursor.objects.bulk_create([EventFileCursor(path=key)], ignore_conflicts=True)
                seen = EventFileCursor.objects.get(path=key)
            dev_ino = identity or (stat.st_dev, stat.st_ino)
            same_file = (seen.device, seen.inode) == dev_ino and seen.first_line_hash in ("", first_hash)
            start, discarding = seen.offset, seen.discarding
            reset = bool(seen.offset) and (not same_file or stat.st_size < seen.offset)
            if reset:
                start, discarding = 0, False
            elif same_file and seen.device is not None and start == stat.st_size:
                # Already read to its end (by the watcher, beat or another process's read): nothing to lock.
                with _seen_lock:
                    _seen[key] = _stat_key(stat)
                return report
            taken = (
                ahead.take(start=start, discarding=discarding) if ahead is not None and not reset else None
            )
            ahead, parsed = None, None
            if taken is not None:
                chunk, parsed = taken
            else:
                chunk = read_lines(
                    fd, start, max_lines=batch_lines, max_line_bytes=max_line_bytes, discarding=discarding
                )
            with collector_paused(), transaction.atomic():
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
                applied, new_offset, whole = _apply_chunk(
                    chunk, start, source=key, mode=mode, pace=pace, parsed=parsed
                )
                report.absorb(applied)
                cursor.lines_read += applied.lines_read
                cursor.bad_lines += applied.bad
                cursor.offset = new_offset
                cursor.discarding = chunk.discarding if whole else False
                cursor.device, cursor.inode = dev_ino
                cursor.first_line_hash = first_hash
                cursor.save()
                if (
                    whole
                    and len(chunk.lines) == batch_lines
                    and (max_batches is None or batches + 1 < max_batches)
                ):
                    # The next chunk starts where this one ends; its parse runs while the server commits this
                    # one (the deferred key checks: a chunk's longest wait after its events insert). Started
                    # here, not earlier: each statement answered while the thread runs waits for the GIL.
                    ahead = ReadAhead(
                        fd,
                        start=new_offset,
                        discarding=cursor.discarding,
                        max_lines=batch_lines,
                        max_line_bytes=max_line_bytes,
                        source=key,
                    )
            metrics.ingest_batch_observe(
                applied=applied.applied,
                duplicates=applied.duplicates,
                unmatched=applied.unmatched,
                bad=applied.bad,
            )
            batches += 1
            if whole and len(chunk.lines) < batch_lines:
                report.pending_bytes = max(0, stat.st_size - new_offset)
                if report.pending_bytes == 0:
                    with _seen_lock:
                        _seen[key] = _stat_key(stat)
                return report
            if max_batches is not None and batches >= max_batches:
                report.pending_bytes = max(0, os.fstat(fd).st_size - new_offset)
                report.unfinished += 1
                return report
    finally:
        if ahead is not None:  # never outlives the descriptor it reads
            ahead.join()


def _drain_rotated(
    path: Path, key: str, fd: int, *, batch_lines: int, mode: str | None, max_batches: int | None = None
) -> tuple[IngestReport, EventFileCursor | None]:
    """Before reading a new file at `path`, finish the rotated one (`<name>.<suffix>`) the cursor was on; the
    cursor as read when there was none to finish (for the new file's first batch: one read less per ingest)."""
    cursor = EventFileCursor.objects.filter(path=key).first()
    if cursor is None or cursor.inode is None or cursor.device is None:
        return IngestReport(), cursor
    current = os.fstat(fd)
    if (current.st_dev, current.st_ino) == (cursor.device, cursor.inode):
        return IngestReport(), cursor
    rotated = rotated_sibling(path, device=cursor.device, inode=cursor.inode)
    if rotated is None:
        return IngestReport(), cursor
    old_fd = open_regular(rotated)
    try:
        report = _drain(
            old_fd,
            key,
            batch_lines=batch_lines,
            mode=mode,
            identity=(cursor.device, cursor.inode),
            max_batches=max_batches,
        )
    finally:
        os.close(old_fd)
    if report.unfinished:
        return report, None  # the rotated file is not finished: the new one waits
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
    return report, None


def ingest_file(
    path: Path, *, batch_lines: int = BATCH_LINES, max_batches: int | None = None
) -> IngestReport:
    """Ingest the new complete lines of one events file where it is (never through a symlink); at most
    `max_batches` batches of `batch_lines` when given."""
    path = Path(os.path.abspath(path))
    key = str(path)
    # A line of an engine's own file can only be about an order of that engine's mode.
    mode = events_file_mode(path, root=settings.TRADEDESK_EXECUTION_ROOT)
    report = IngestReport(files=1)
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return report
    try:
        rotated, cursor = _drain_rotated(
            path, key, fd, batch_lines=batch_lines, mode=mode, max_batches=max_batches
        )
        report.absorb(rotated)
        if not rotated.unfinished:
            report.absorb(
                _drain(fd, key, batch_lines=batch_lines, mode=mode, max_batches=max_batches, cursor=cursor)
            )
    finally:
        os.close(fd)
    return report


def _skip(report: IngestReport, key: str, exc: OSError) -> None:
    reason = refusal_reason(exc)
    report.skipped_files += 1
    report.skipped[key] = reason
    if _refused.get(key) != reason:
        _refused[key] = reason
        logger.error("events file skipped", extra={"path": key, "reason": reason})


def ingest_execution_events(
    path: str | Path | None = None,
    *,
    force: bool = False,
    mode: str | None = None,
    batch_lines: int = BATCH_LINES,
    max_batches: int | None = None,
) -> IngestReport:
    """Ingest one events file, or every engine's (of `mode` when given); each file on its own, so one bad
    file stops no other. `max_batches` bounds the work per file (a read's inline ingest)."""
    scanned = path is None
    paths = scanned_events_files() if path is None else [Path(path)]
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
            total.absorb(ingest_file(Path(key), batch_lines=batch_lines, max_batches=max_batches))
        except FileNotFoundError:
            continue
        except OSError as exc:
            _skip(total, key, exc)
            continue
        _refused.pop(key, None)
    if total.bad:
        logger.warning("ingest found bad lines", extra=total.as_dict())
    return total


def ingest_before_read() -> IngestReport:
    """Ingest-on-read, for listings that must not show a stale book: one stat per file when nothing grew, and
    never more than one batch of READ_BATCH_LINES per file (the watcher and beat read the rest).

    Only where the engine files are local (TRADEDESK_ENGINE_FILES_LOCAL); elsewhere beat ingests on the
    engine hosts."""
    if not settings.TRADEDESK_ENGINE_FILES_LOCAL:
        return IngestReport()
    return ingest_execution_events(batch_lines=READ_BATCH_LINES, max_batches=1)


__all__ = [
    "BadLine",
    "IngestReport",
    "ParsedBatch",
    "apply_execution_events",
    "ingest_before_read",
    "ingest_execution_events",
    "ingest_file",
    "parse_event",
    "parse_lines",
]
