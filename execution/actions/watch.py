"""The watch door: the ingest watcher of an engine host (`manage.py ingest_watch`, its own process), which
ingests every events file to its end as soon as it grows. Beat's periodic ingest stays the safety net and
the only ingest where no watcher runs; both take the same cursor lock per file, so each line applies once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from django.db import DatabaseError, close_old_connections
from django.db.models import Exists, OuterRef

from execution.dispatch import cancels
from execution.dispatch.bracket_legs import bracket_legs_send
from execution.dispatch.sweep import closes_held, closes_release
from execution.ingest.events import ingest_execution_events
from execution.ingest.lines import IngestReport
from execution.ingest.watcher import folder_wakeups
from execution.push import snapshots_publish
from execution.routing import dispatch_enqueue
from orders.models import TradeOrder
from orders.services import trade_orders_cancel_pending

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


@dataclass
class Passes:
    """The engine-host passes a drain's changed orders can need, by mode: nothing else can have unblocked."""

    cancels: set[str] = field(default_factory=set)  # a changed order has a cancel request not sent yet
    closes: set[str] = field(default_factory=set)  # a closing order is held on a changed order's symbol
    brackets: set[str] = field(default_factory=set)  # a changed order is a bracket's entry or leg

    def run(self) -> list[Callable[[], object]]:
        """The passes to run, one callable each (cancels, then closes, then bracket legs, as beat runs them)."""
        # Looked up on each wake-up (cancels.cancels_send_pending): a test may replace it on its module.
        return [
            *(partial(cancels.cancels_send_pending, mode=mode) for mode in sorted(self.cancels)),
            *(partial(closes_release, enqueue=_enqueue, mode=mode) for mode in sorted(self.closes)),
            *(partial(bracket_legs_send, enqueue=_enqueue, mode=mode) for mode in sorted(self.brackets)),
        ]


def watch_passes_needed(*, order_ids: Iterable[int]) -> Passes:
    """Which passes the orders a drain changed can need, in one query.

    A cancel request waits for its order's engine id (the Submitted line); a held close waits for the orders
    on its symbol to end; the legs tradedesk places or sizes wait for their group's entry to fill or end.
    Anything else (a request whose task failed, a close released by another host's ingest) is beat's."""
    passes = Passes()
    pending = trade_orders_cancel_pending().filter(pk=OuterRef("pk"))
    held = closes_held().filter(
        project_id=OuterRef("project_id"), mode=OuterRef("mode"), symbol=OuterRef("symbol")
    )
    rows = (
        TradeOrder.objects.filter(pk__in=list(order_ids))
        .annotate(cancel_pending=Exists(pending), close_held=Exists(held))
        .values_list("mode", "bracket_role", "cancel_pending", "close_held")
    )
    for mode, bracket_role, cancel_pending, close_held in rows:
        if cancel_pending:
            passes.cancels.add(mode)
        if close_held:
            passes.closes.add(mode)
        if bracket_role:
            passes.brackets.add(mode)
    return passes


def watch_once() -> IngestReport:
    """One wake-up: drain every events file, then send the cancels, closes and bracket legs its events may
    have unblocked, and publish the snapshots replaced since (prices, account) for the pages and the web hosts.

    The passes run only for what the changed orders can need (watch_passes_needed): a plain order's
    Submitted line costs one query here, and its fill, landing ~20 ms later, finds the watcher idle."""
    report = _drain()
    snapshots_publish()
    changed = set(report.orders_changed)
    while changed:
        passes = watch_passes_needed(order_ids=changed).run()
        changed = set()
        for run_pass in passes:
            run_pass()
            # A line written while the pass ran (an engine's fill) is applied before the next pass.
            more = _drain()
            report.absorb(more)
            changed |= more.orders_changed
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
