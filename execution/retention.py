"""Retention of engine folders: prune files of finished orders, and say what a clean of var/ would lose."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError

from execution.contract.files import read_json
from execution.contract.folder import COMMAND_PREFIX, ENGINES_DIR, RESULT_PREFIX, EngineFolder
from execution.engine import process as engines
from execution.models import EventFileCursor
from orders.models import WORKING_STATUSES, TradeOrder, engine_record

logger = logging.getLogger("execution.retention")


@dataclass
class PruneReport:
    """How many files one prune deleted, by kind."""

    intents: int = 0
    results: int = 0
    run_records: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON-ready counts."""
        return asdict(self)


@dataclass(frozen=True)
class Needed:
    """What the sweep, the dispatch and cancels of a mode may still read: never pruned."""

    client_order_ids: frozenset[str]
    command_ids: frozenset[str]
    run_ids: frozenset[str]
    intent_paths: frozenset[str]


def execution_files_needed(*, mode: str) -> Needed:
    """Files of working orders (NEW included: the sweep reads their intents, results and run records)."""
    folder = engines.engine_folder(mode)
    coids: set[str] = set()
    run_ids: set[str] = set()
    for coid, params in TradeOrder.objects.filter(mode=mode, status__in=WORKING_STATUSES).values_list(
        "client_order_id", "params"
    ):
        coids.add(coid)
        run_id = engine_record(params).run_id
        if run_id:
            run_ids.add(str(run_id))
    current = read_json(folder.pid)
    if isinstance(current, dict) and current.get("run_id"):
        run_ids.add(str(current["run_id"]))
    return Needed(
        client_order_ids=frozenset(coids),
        command_ids=frozenset(engines.command_id_for(coid) for coid in coids),
        run_ids=frozenset(run_ids),
        intent_paths=frozenset(str(folder.intent(coid).resolve()) for coid in coids),
    )


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def execution_files_prune(
    *, retention_days: int | None = None, now: float | None = None, modes: Iterable[str] = engines.MODES
) -> PruneReport:
    """Delete intents, command results and run records older than the retention that no working order needs."""
    days = settings.TRADEDESK_RETENTION_DAYS if retention_days is None else retention_days
    report = PruneReport()
    if days <= 0:
        return report
    cutoff = (time.time() if now is None else now) - days * 86400
    for mode in modes:
        folder = engines.engine_folder(mode)
        if not folder.path.is_dir():
            continue
        # Read what is needed after listing nothing yet: an order created during the prune has a fresh mtime.
        needed = execution_files_needed(mode=mode)
        for intent in folder.intents.glob("*.json"):
            if intent.stem not in needed.client_order_ids and _older(intent, cutoff):
                report.intents += _unlink(intent)
        # Unread command-*.json files are never touched: an engine may still read them.
        for result in [*folder.command_results(), *folder.retracted_commands()]:
            command_id = (
                result.name.removeprefix(RESULT_PREFIX).removeprefix(f".{COMMAND_PREFIX}").split(".")[0]
            )
            if command_id not in needed.command_ids and _older(result, cutoff):
                report.results += _unlink(result)
        # A run that was given a working order's intent keeps both its records (the sweep reads them).
        runs = set(needed.run_ids)
        for record in folder.runs.glob("*.parameters.json"):
            parameters = read_json(record)
            if isinstance(parameters, dict) and parameters.get("intent-file") in needed.intent_paths:
                runs.add(record.name.split(".", 1)[0])
        for record in folder.runs.glob("*.json"):
            if record.name.split(".", 1)[0] not in runs and _older(record, cutoff):
                report.run_records += _unlink(record)
    if any(asdict(report).values()):
        logger.info("pruned execution files", extra=report.as_dict())
    return report


def var_clean_blockers() -> list[str]:
    """Why deleting the var folder would lose something: a running engine, or events not yet ingested."""
    blockers = []
    root = Path(settings.TRADEDESK_EXECUTION_ROOT)
    for path in sorted((root / ENGINES_DIR).glob("*")):
        folder = EngineFolder(path)
        mode = folder.mode
        if mode in engines.MODES and (info := engines.running_engine(mode)) is not None:
            blockers.append(f"the {mode} engine is running (pid {info['pid']}); stop it first")
        events_path = folder.events.resolve()
        try:
            stat = os.stat(events_path)
        except FileNotFoundError:
            continue
        if stat.st_size == 0:
            continue
        try:
            cursor = EventFileCursor.objects.filter(path=str(events_path)).first()
        except DatabaseError as exc:
            blockers.append(f"{events_path}: cannot read the ingest cursor ({exc.__class__.__name__})")
            continue
        ingested = 0 if cursor is None or cursor.inode != stat.st_ino else cursor.offset
        if ingested < stat.st_size:
            blockers.append(f"{events_path}: {stat.st_size - ingested} bytes of events not ingested yet")
    return blockers
