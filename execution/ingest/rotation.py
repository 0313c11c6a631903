"""Operations on events files: rotate one safely (stop, ingest to the end, rename) and replay after a restore."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from execution.contract.folder import ARCHIVE_DIR
from execution.engine import process as engines
from execution.ingest.events import IngestReport, ingest_execution_events, ingest_file
from execution.models import EventFileCursor

logger = logging.getLogger("execution.ingest.rotation")


def events_file_rotate(*, mode: str, stop: bool = False, timeout: float = 30.0) -> Path:
    """Ingest the mode's events file to its end and move it to events-archive/; returns the archive's path."""
    with engines.mode_lock(mode):  # no engine starts (and no new events file appears) meanwhile
        if engines.running_engine(mode) is not None:
            if not stop:
                raise engines.EngineError(f"the {mode} engine is running; stop it first (or pass --stop)")
            engines.stop_engine(mode, timeout=timeout)
        path = engines.engine_folder(mode).events.resolve()
        if not path.exists():
            raise engines.EngineError(f"{path} does not exist")
        report = ingest_file(path)
        if report.pending_bytes:
            raise engines.EngineError(
                f"{path} ends with {report.pending_bytes} bytes of an incomplete line; not rotated"
            )
        archive = path.parent / ARCHIVE_DIR / f"events-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"
        archive.parent.mkdir(exist_ok=True)
        with transaction.atomic():
            cursor = EventFileCursor.objects.select_for_update().get(path=str(path))
            stat = os.stat(path)
            if cursor.offset != stat.st_size or cursor.inode != stat.st_ino:
                raise engines.EngineError(f"{path} changed while rotating; try again")
            os.replace(path, archive)
            # The next engine run starts a new file; its cursor starts at 0 without a "replaced" warning.
            cursor.offset, cursor.device, cursor.inode, cursor.first_line_hash = 0, None, None, ""
            cursor.save()
    logger.info("events file rotated", extra={"mode": mode, "archive": str(archive), "bytes": stat.st_size})
    return archive


def events_files_for_replay(*, mode: str) -> list[Path]:
    """A mode's archived events files, oldest first, then the current one."""
    folder = engines.engine_folder(mode)
    files = sorted(folder.archive.glob("events-*.jsonl"))
    current = folder.events
    return [*files, current] if current.exists() else files


def events_replay(*, paths: list[Path]) -> IngestReport:
    """Read events files again from their start (after a database restore); known events are skipped."""
    resolved = [Path(path).resolve() for path in paths]
    EventFileCursor.objects.filter(path__in=[str(path) for path in resolved]).update(
        offset=0, device=None, inode=None, first_line_hash=""
    )
    total = IngestReport()
    for path in resolved:
        total.absorb(ingest_execution_events(path, force=True))
    return total
