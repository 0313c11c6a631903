"""Hostile events files: each file isolated, no symlinks, regular files only, lines capped, rotation kept."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from execution.ingest import events as events_module
from execution.ingest.events import ingest_execution_events, ingest_file
from execution.ingest.files import read_lines
from execution.models import BadEventLine, EventFileCursor
from execution.tasks import ingest_events
from orders.models import TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db


def fill(tag: str, event_id: int, *, quantity: int = 10, run: str = "r-1") -> bytes:
    event = {
        "tag": tag,
        "status": "Filled",
        "order_id": 7,
        "event_id": event_id,
        "run_id": run,
        "filled": quantity,
        "fill_price": 100.0,
    }
    return (json.dumps(event) + "\n").encode()


def submitted(tag: str, event_id: int, *, run: str = "r-1") -> bytes:
    event = {"tag": tag, "status": "Submitted", "order_id": 7, "event_id": event_id, "run_id": run}
    return (json.dumps(event) + "\n").encode()


def append(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        handle.write(data)
    return path


@pytest.fixture
def order() -> TradeOrder:
    return TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(10))


@pytest.fixture
def paper_events(execution_root: Path) -> Path:
    return execution_root / "engines" / "paper" / "events.jsonl"


# --- 2. one bad events path never stops the others ------------------------------------------------------


def test_a_directory_named_events_jsonl_is_skipped_and_other_engines_go_on(
    execution_root: Path, paper_events: Path, order: TradeOrder
) -> None:
    (execution_root / "engines" / "aaa" / "events.jsonl").mkdir(parents=True)
    append(paper_events, fill("oi_9_1_1", 1))
    report = ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert report.skipped_files == 1
    assert report.skipped[str(execution_root / "engines" / "aaa" / "events.jsonl")] == "not a regular file"


def test_the_beat_task_survives_a_bad_events_path(execution_root: Path, paper_events: Path) -> None:
    (execution_root / "engines" / "aaa" / "events.jsonl").mkdir(parents=True)
    append(paper_events, b"")
    assert ingest_events()["skipped_files"] == 1


def test_order_reads_answer_200_while_an_events_path_is_bad(
    execution_root: Path, api: Client, project: Any
) -> None:
    (execution_root / "engines" / "aaa" / "events.jsonl").mkdir(parents=True)
    created = TradeOrderFactory(project=project)
    assert api.get("/api/trade/orders").status_code == 200
    assert api.get(f"/api/trade/orders/{created.pk}").status_code == 200


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_events_file_is_skipped_with_its_reason(
    execution_root: Path, paper_events: Path
) -> None:
    append(paper_events, b"{}\n").chmod(0)
    report = ingest_execution_events()
    assert report.skipped[str(paper_events)] == "permission denied"


def test_a_symlink_loop_is_skipped(execution_root: Path, paper_events: Path) -> None:
    paper_events.parent.mkdir(parents=True)
    os.symlink(paper_events, paper_events)
    report = ingest_execution_events()
    assert report.skipped[str(paper_events)] == "a symlink (not followed)"


# --- 5. symlinks are never followed -----------------------------------------------------------------------


def test_a_symlinked_events_file_is_not_read(tmp_path: Path, paper_events: Path, order: TradeOrder) -> None:
    outside = append(tmp_path / "outside.jsonl", fill("oi_9_1_1", 1))
    paper_events.parent.mkdir(parents=True)
    os.symlink(outside, paper_events)
    report = ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "NEW" and report.skipped[str(paper_events)] == "a symlink (not followed)"
    assert ingest_execution_events(paper_events).skipped_files == 1


def test_an_engine_folder_linked_outside_the_root_is_not_read(
    tmp_path: Path, execution_root: Path, order: TradeOrder
) -> None:
    elsewhere = tmp_path / "elsewhere"
    append(elsewhere / "events.jsonl", fill("oi_9_1_1", 1))
    (execution_root / "engines").mkdir()
    os.symlink(elsewhere, execution_root / "engines" / "paper")
    report = ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "NEW"
    assert "outside the execution root" in report.skipped.values()


def test_an_explicit_path_is_read_where_it_is(tmp_path: Path, order: TradeOrder) -> None:
    path = append(tmp_path / "anywhere" / "e.jsonl", fill("oi_9_1_1", 1))
    ingest_execution_events(path)
    order.refresh_from_db()
    assert order.status == "FILLED"


def test_a_fifo_is_skipped_without_blocking(paper_events: Path) -> None:
    paper_events.parent.mkdir(parents=True)
    os.mkfifo(paper_events)
    assert ingest_execution_events().skipped[str(paper_events)] == "not a regular file"


def test_dev_zero_as_events_file_is_skipped(paper_events: Path) -> None:
    paper_events.parent.mkdir(parents=True)
    os.symlink("/dev/zero", paper_events)
    assert ingest_execution_events().skipped_files == 1


# --- 3. rotation ------------------------------------------------------------------------------------------


def test_a_fill_appended_just_before_a_rotation_is_applied(paper_events: Path, order: TradeOrder) -> None:
    append(paper_events, submitted("oi_9_1_1", 1))
    ingest_execution_events()
    append(paper_events, fill("oi_9_1_1", 2))
    paper_events.rename(paper_events.with_name("events.jsonl.2"))
    paper_events.touch()
    report = ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "FILLED" and order.filled_quantity == 10
    assert report.rotations == 1
    cursor = EventFileCursor.objects.get(path=str(paper_events))
    assert cursor.inode == paper_events.stat().st_ino and cursor.offset == 0


def test_after_a_rotation_the_new_file_is_read_from_its_start(paper_events: Path, order: TradeOrder) -> None:
    append(paper_events, submitted("oi_9_1_1", 1))
    ingest_execution_events()
    paper_events.rename(paper_events.with_name("events.jsonl.1"))
    append(paper_events, fill("oi_9_1_1", 2))
    ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert ingest_execution_events(force=True).applied == 0


# --- 4. line cap ------------------------------------------------------------------------------------------


def test_a_line_over_the_cap_is_a_bad_line_with_an_excerpt(
    tmp_path: Path, order: TradeOrder, settings: Any
) -> None:
    settings.TRADEDESK_EVENTS_MAX_LINE_BYTES = 4096
    huge = json.dumps({"tag": "oi_9_1_1", "status": "Submitted", "message": "x" * 100_000}).encode() + b"\n"
    path = append(tmp_path / "e.jsonl", huge + fill("oi_9_1_1", 2))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert order.status == "FILLED" and report.bad == 1
    bad = BadEventLine.objects.get()
    assert bad.offset == 0 and "longer than 4096" in bad.reason and len(bad.excerpt) == 1024


def test_a_torn_line_over_the_cap_is_not_read_again_every_tick(
    tmp_path: Path, order: TradeOrder, settings: Any
) -> None:
    settings.TRADEDESK_EVENTS_MAX_LINE_BYTES = 4096
    path = append(tmp_path / "e.jsonl", b'{"tag": "' + b"x" * 50_000)
    ingest_execution_events(path)
    cursor = EventFileCursor.objects.get()
    assert cursor.offset == 50_009 and cursor.discarding
    append(path, b"y" * 10_000)
    ingest_execution_events(path)
    assert EventFileCursor.objects.get().offset == 60_009
    append(path, b'"}\n' + fill("oi_9_1_1", 2))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert order.status == "FILLED" and report.bad == 1
    assert not EventFileCursor.objects.get().discarding


def test_reading_skips_an_over_cap_line_without_holding_it(tmp_path: Path) -> None:
    path = append(tmp_path / "e.jsonl", b"a" * 5000 + b"\n" + b"{}\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        chunk = read_lines(fd, 0, max_lines=10, max_line_bytes=1024)
    finally:
        os.close(fd)
    assert chunk.lines == [b"{}"] and chunk.ends == [5004]
    assert chunk.too_long[0][1].offset == 0 and len(chunk.too_long[0][1].excerpt) == 1024


def test_a_backlog_is_applied_over_several_transactions_within_the_budget(
    tmp_path: Path, settings: Any
) -> None:
    settings.TRADEDESK_INGEST_TRANSACTION_SECONDS = 0
    project = ProjectFactory()
    tags = [f"oi_b_{n}" for n in range(3)]
    for tag in tags:
        TradeOrderFactory(client_order_id=tag, project=project)
    path = tmp_path / "e.jsonl"
    for n, tag in enumerate(tags):
        append(path, b"".join(submitted(tag, 1000 * n + i, run=f"r{n}") for i in range(600)))
    report = ingest_file(path)
    assert report.applied == 1800 and report.bad == 0
    assert set(TradeOrder.objects.values_list("status", flat=True)) == {"SUBMITTED"}
    assert EventFileCursor.objects.get().offset == path.stat().st_size


def test_a_chunk_that_fits_the_budget_is_applied_in_one_step_once_the_pace_is_known(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TRADEDESK_INGEST_TRANSACTION_SECONDS = 3600
    project = ProjectFactory()
    tags = [f"oi_p_{n}" for n in range(3)]
    for tag in tags:
        TradeOrderFactory(client_order_id=tag, project=project)
    path = tmp_path / "e.jsonl"
    for n, tag in enumerate(tags):
        append(path, b"".join(submitted(tag, 1000 * n + i, run=f"r{n}") for i in range(1000)))
    steps: list[int] = []
    apply = events_module.apply_execution_events

    def counted(events: list[Any], **kwargs: Any) -> Any:
        steps.append(len(events))
        return apply(events, **kwargs)

    monkeypatch.setattr(events_module, "apply_execution_events", counted)
    report = ingest_file(path, batch_lines=1000)
    # The first step of a drain is APPLY_STEP lines (no pace yet); then each chunk goes whole, in one step.
    assert steps == [events_module.APPLY_STEP, 1000 - events_module.APPLY_STEP, 1000, 1000]
    assert report.applied == 3000 and report.bad == 0
    assert set(TradeOrder.objects.values_list("status", flat=True)) == {"SUBMITTED"}
    assert EventFileCursor.objects.get().offset == path.stat().st_size


def test_a_transaction_short_of_budget_commits_instead_of_taking_ever_smaller_steps(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TRADEDESK_INGEST_TRANSACTION_SECONDS = 1.0
    project = ProjectFactory()
    TradeOrderFactory(client_order_id="oi_slow", project=project)
    path = append(tmp_path / "e.jsonl", b"".join(submitted("oi_slow", i) for i in range(3000)))
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(events_module, "time", SimpleNamespace(monotonic=lambda: clock.now))
    steps: list[int] = []
    apply = events_module.apply_execution_events

    def slow(events: list[Any], **kwargs: Any) -> Any:
        steps.append(len(events))
        clock.now += len(events) / 1000  # a loaded machine: 1,000 lines a second
        return apply(events, **kwargs)

    monkeypatch.setattr(events_module, "apply_execution_events", slow)
    report = ingest_file(path, batch_lines=3000)
    # First transaction: APPLY_STEP (no pace yet), then one more step of the minimum size fills the budget.
    # Then each transaction is one step of STEP_SHARE of the budget, committed with the rest (under
    # TAIL_SHARE) unused; the last takes what is left.
    assert steps == [500, 500, 800, 800, 400]
    assert report.applied == 3000
    assert EventFileCursor.objects.get().offset == path.stat().st_size


# --- bad lines: stored for staff, logged once per batch ---------------------------------------------------


def test_bad_lines_are_stored_and_logged_once_per_batch(tmp_path: Path, caplog: Any) -> None:
    path = append(tmp_path / "e.jsonl", b"not json\n" * 50 + b"[1]\n" + b'{"tag": ""}\n')
    with caplog.at_level("WARNING", logger="execution.ingest.events"):
        report = ingest_execution_events(path)
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.name == "execution.ingest.events"]
    per_batch = [r for r in warnings if r.getMessage() == "events batch"]
    assert len(per_batch) == 1 and per_batch[0].bad == 52
    assert len(warnings) == 2  # the batch's line and the ingest's summary, never one per bad line
    assert report.bad == 52
    assert BadEventLine.objects.count() == 52
    assert BadEventLine.objects.filter(offset=9 * 50).get().reason.startswith("not a JSON object")


def test_a_read_of_a_file_another_process_already_ingested_to_its_end_writes_and_locks_nothing(
    paper_events: Path, order: TradeOrder
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from execution.ingest.events import ingest_before_read

    append(paper_events, submitted(order.client_order_id, 1))
    assert ingest_execution_events().applied == 1  # the watcher, say
    events_module._seen.clear()  # a web process, which has not looked at the file since it grew

    with CaptureQueriesContext(connection) as queries:
        assert ingest_before_read().lines_read == 0
    statements = " ".join(query["sql"].upper() for query in queries.captured_queries)
    assert "FOR UPDATE" not in statements and "INSERT" not in statements and "UPDATE " not in statements

    # A line written since is still read and applied once.
    append(paper_events, fill(order.client_order_id, 2))
    assert ingest_before_read().applied == 1
    assert TradeOrder.objects.get(pk=order.pk).status == "FILLED"


def test_a_read_ingests_at_most_one_bounded_batch_inline_and_leaves_the_rest(execution_root: Path) -> None:
    from execution.ingest.events import READ_BATCH_LINES, ingest_before_read

    path = execution_root / "engines" / "paper" / "events.jsonl"
    junk = b"junk that is no JSON\n" * (READ_BATCH_LINES * 3 + 7)
    append(path, junk)

    first = ingest_before_read()
    assert first.lines_read == READ_BATCH_LINES and first.bad == READ_BATCH_LINES
    assert first.unfinished == 1 and first.pending_bytes == len(junk) - READ_BATCH_LINES * 21
    assert EventFileCursor.objects.get(path=str(path)).offset == READ_BATCH_LINES * 21

    # The next read takes the next batch; the watcher's or beat's ingest (unbounded) the rest at once.
    assert ingest_before_read().lines_read == READ_BATCH_LINES
    rest = ingest_execution_events()
    assert rest.lines_read == READ_BATCH_LINES + 7 and rest.unfinished == 0 and rest.pending_bytes == 0
    assert ingest_before_read().lines_read == 0
