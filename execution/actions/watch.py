"""The watch door: the ingest watcher of an engine host (`manage.py ingest_watch`, its own process), which
ingests every events file to its end as soon as it grows. Beat's periodic ingest stays the safety net and
the only ingest where no watcher runs; both take the same cursor lock per file, so each line applies once."""

from __future__ import annotations

import logging
import threading
import time

from django.db import DatabaseError, close_old_connections

from execution.dispatch import cancels
from execution.dispatch.bracket_legs import bracket_legs_send
from execution.dispatch.sweep import closes_release
from execution.ingest.events import ingest_execution_events
from execution.ingest.lines import IngestReport
from execution.ingest.watcher import folder_wakeups
from execution.push import snapshots_publish
from execution.routing import dispatch_enqueue

logger = logging.getLogger("execution.watch")

# After an error (the database restarting) the next wake-up waits this long, so the log is not flooded.
ERROR_PAUSE_SECONDS = 0.5


def _enqueue(order_id: int) -> None:
    dispatch_enqueue(order_id=order_id)


def _drain() -> IngestReport:
    """Ingest every events file to its end, again while lines keep landing (an engine answers a command with
    Submitted, then its fill a few milliseconds later): each line read at once, not at the next wake-up. An
    ingest of files that did not grow is one stat per file."""
    report = ingest_execution_events()
    while True:
        more = ingest_execution_events()
        if not more.lines_read:
            return report
        report.absorb(more)


def watch_once() -> IngestReport:
    """One wake-up: drain every events file, then send the cancels and closes that its events unblocked, and
    publish the snapshots replaced since (prices, account) for the pages and the web hosts."""
    report = _drain()
    snapshots_publish()
    changed = report.orders_changed
    while changed:
        cancels.cancels_send_pending()
        closes_release(enqueue=_enqueue)
        bracket_legs_send(enqueue=_enqueue)
        # Lines written while those ran are read now (their pushes first), not after watchfiles' next steps.
        more = _drain()
        report.absorb(more)
        changed = more.orders_changed
    return report


def ingest_watch(*, stop: threading.Event, inotify: bool = True) -> int:
    """Ingest on every change of the engines' folders until `stop` is set; the number of wake-ups."""
    wakeups = 0
    logger.info("ingest watcher started", extra={"inotify": inotify})
    for _changed in folder_wakeups(stop=stop, inotify=inotify):
        wakeups += 1
        try:
            watch_once()
        except DatabaseError:
            logger.exception("ingest watcher: database error; trying again")
            close_old_connections()
            time.sleep(ERROR_PAUSE_SECONDS)
        except Exception:  # never die on one bad wake-up: beat is the safety net, not the cure
            logger.exception("ingest watcher: wake-up failed; trying again")
            time.sleep(ERROR_PAUSE_SECONDS)
    logger.info("ingest watcher stopped", extra={"wakeups": wakeups})
    return wakeups
