"""The ingest watcher: a line written to an events file is ingested without beat (inotify, and the stat
poll fallback); with the watcher stopped, beat's ingest alone still reads every line, each exactly once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from execution import tasks
from execution.actions import ingest_watch
from execution.actions import watch as watch_module
from execution.actions.watch import watch_once
from execution.dispatch import cancels
from execution.ingest import watcher
from execution.ingest.watcher import wakes_the_watcher
from execution.models import EventFileCursor
from orders.models import OrderStatus, TradeOrder
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Watcher:
    """ingest_watch in a thread of this process (so on the test database), stopped by its event."""

    def __init__(self, *, inotify: bool) -> None:
        self.stop = threading.Event()
        self.wakeups: list[int] = []
        self.thread = threading.Thread(target=self._run, args=(inotify,), daemon=True)

    def _run(self, inotify: bool) -> None:
        try:
            self.wakeups.append(ingest_watch(stop=self.stop, inotify=inotify))
        finally:
            connection.close()

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def events_file(execution_root: Path) -> Path:
    path = execution_root / "engines" / "paper" / "events.jsonl"
    path.parent.mkdir(parents=True)
    return path


@pytest.fixture
def order(project: Any) -> Iterator[TradeOrder]:
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    yield TradeOrderFactory(project=project, params=params, client_order_id="w-1", dispatched_at=None)


def line(tag: str, status: str, event_id: int, **extra: Any) -> str:
    event = {"tag": tag, "status": status, "order_id": 3, "event_id": event_id, "run_id": "r-w", **extra}
    return json.dumps(event) + "\n"


def append(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text)


def status_of(order: TradeOrder) -> str:
    return TradeOrder.objects.get(pk=order.pk).status


def no_inotify_descriptor(folder: Path, **_options: object) -> None:
    raise OSError(24, "inotify_init1 failed")  # EMFILE: the user's inotify instances are used up


@pytest.mark.parametrize(
    ("inotify", "descriptor"),
    [(True, True), (True, False), (False, False)],
    ids=["inotify", "watchfiles", "stat-poll"],
)
def test_the_watcher_ingests_a_line_written_to_the_events_file_without_beat(
    events_file: Path, order: TradeOrder, inotify: bool, descriptor: bool, monkeypatch: Any
) -> None:
    if not descriptor:  # where inotify's descriptor cannot be had, watchfiles wakes the watcher
        monkeypatch.setattr(watcher, "FolderNotify", no_inotify_descriptor)
    # No beat, no task: the ingest task must never run while the watcher does its work.
    monkeypatch.setattr(tasks.ingest_events, "apply_async", lambda *a, **k: pytest.fail("beat's ingest ran"))
    with Watcher(inotify=inotify):
        append(events_file, line("w-1", "Submitted", 1))
        assert wait_for(lambda: status_of(order) == OrderStatus.SUBMITTED, 15)
        # A file that keeps growing is drained to its end on each wake-up.
        append(events_file, line("w-1", "Filled", 2, filled=1, fill_price=101.5))
        assert wait_for(lambda: status_of(order) == OrderStatus.FILLED, 15)
    cursor = EventFileCursor.objects.get(path=str(events_file))
    assert cursor.offset == events_file.stat().st_size and cursor.lines_read == 2


def test_beat_alone_still_ingests_when_the_watcher_is_stopped(events_file: Path, order: TradeOrder) -> None:
    with Watcher(inotify=True):
        append(events_file, line("w-1", "Submitted", 1))
        assert wait_for(lambda: status_of(order) == OrderStatus.SUBMITTED, 15)
    # The watcher is gone: this line waits for beat's periodic ingest (the task beat runs every second).
    append(events_file, line("w-1", "Filled", 2, filled=1, fill_price=101.5))
    assert status_of(order) == OrderStatus.SUBMITTED
    report = tasks.ingest_events.apply().get()
    assert report["applied"] == 1 and report["lines_read"] == 1
    assert status_of(order) == OrderStatus.FILLED
    assert tasks.ingest_events.apply().get()["lines_read"] == 0


def test_watcher_and_beat_together_apply_each_line_once(events_file: Path, order: TradeOrder) -> None:
    TradeOrder.objects.filter(pk=order.pk).update(quantity=40)
    with Watcher(inotify=True):
        for event_id in range(1, 41):
            append(events_file, line("w-1", "PartiallyFilled", event_id, filled=1, fill_price=100.0))
            tasks.ingest_events.apply()
        assert wait_for(lambda: TradeOrder.objects.get(pk=order.pk).filled_quantity == 40, 15)
    tasks.ingest_events.apply()
    assert TradeOrder.objects.get(pk=order.pk).filled_quantity == 40
    assert EventFileCursor.objects.get(path=str(events_file)).lines_read == 40


def cancel_requested(order: TradeOrder) -> None:
    """A cancel request not sent yet (it waits for the engine's id): the watcher's cancels pass is needed."""
    TradeOrder.objects.filter(pk=order.pk).update(quantity=2, cancel_requested_at=timezone.now())


def test_a_line_written_during_a_wake_up_is_ingested_in_the_same_wake_up(
    events_file: Path, order: TradeOrder, monkeypatch: Any
) -> None:
    # The engine's fill lands while the watcher sends the cancels its Submitted line may have unblocked.
    cancel_requested(order)
    sent = cancels.cancels_send_pending
    calls: list[int] = []

    def send_and_fill(**kwargs: Any) -> list[int]:
        if not calls:
            append(events_file, line("w-1", "PartiallyFilled", 2, filled=1, fill_price=101.5))
        calls.append(1)
        return sent(**kwargs)

    monkeypatch.setattr(cancels, "cancels_send_pending", send_and_fill)
    append(events_file, line("w-1", "Submitted", 1))

    report = watch_once()

    assert report.lines_read == 2 and report.applied == 2
    assert status_of(order) == OrderStatus.PARTIALLY_FILLED
    assert len(calls) == 2  # the fill's changes got their own cancels pass (the request is still pending)


def test_lines_that_land_during_the_ingest_are_read_before_the_cancels_and_closes_pass(
    events_file: Path, order: TradeOrder, monkeypatch: Any
) -> None:
    cancel_requested(order)
    ingest = watch_module.ingest_execution_events
    pending = [line("w-1", "PartiallyFilled", 2, filled=1, fill_price=101.5)]

    def ingest_then_land(*args: Any, **kwargs: Any) -> Any:
        report = ingest(*args, **kwargs)
        if pending:
            append(events_file, pending.pop())
        return report

    seen_by_cancels: list[str] = []
    monkeypatch.setattr(watch_module, "ingest_execution_events", ingest_then_land)
    monkeypatch.setattr(
        cancels, "cancels_send_pending", lambda **kwargs: seen_by_cancels.append(status_of(order)) or []
    )
    append(events_file, line("w-1", "Submitted", 1))

    report = watch_once()

    assert report.lines_read == 2
    # The fill was read before the cancels pass, not after it (one pass: both lines' changes were drained).
    assert seen_by_cancels == [OrderStatus.PARTIALLY_FILLED]


@pytest.mark.parametrize(
    ("name", "wakes"),
    [
        ("events.jsonl", True),
        ("events.jsonl.20261207", True),
        ("prices.json", True),
        ("account.json", True),
        ("command-5d3c.json", False),
        ("result-command-5d3c.json", False),
        (".prices.json.4242.a1b2.tmp", False),
        ("simulator-orders.json", False),
        ("engine.log", False),
        ("intents/oi_1_1_1.json", False),
    ],
)
def test_only_events_files_and_snapshots_wake_the_watcher(name: str, wakes: bool) -> None:
    assert wakes_the_watcher(f"/srv/execution/engines/paper/{name}") is wakes


def test_a_new_engine_folder_wakes_the_watcher() -> None:
    # Files written in it before inotify watched it are found by the wake-up's scan.
    assert wakes_the_watcher("/srv/execution/engines/live", folder=Path("/srv/execution/engines"))
    assert not wakes_the_watcher(
        "/srv/execution/engines/live/engine.log", folder=Path("/srv/execution/engines")
    )
