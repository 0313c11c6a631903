"""The events file's cursor: only new lines are read, a truncated, replaced or rewritten file from the start."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution.ingest.events import ingest_execution_events
from execution.models import EventFileCursor
from orders.models import TradeOrder
from tests.execution.ingest.event_lines import ev, line, order, write
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db

__all__ = ["order"]  # the fixture this module's tests use


def test_offset_is_saved_and_only_new_lines_are_read(tmp_path: Path, order: TradeOrder) -> None:
    path = write(tmp_path / "e.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)))
    ingest_execution_events(path)
    write(path, line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=1.0)), "a")
    report = ingest_execution_events(path)
    assert report.lines_read == 1
    assert EventFileCursor.objects.get().offset == path.stat().st_size


def test_unchanged_file_costs_no_query(
    tmp_path: Path, order: TradeOrder, django_assert_num_queries: Any
) -> None:
    path = write(tmp_path / "e.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)))
    ingest_execution_events(path)
    with django_assert_num_queries(0):
        ingest_execution_events(path)


def test_a_new_line_reads_the_cursor_once_before_locking_it(tmp_path: Path, order: TradeOrder) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    path = write(tmp_path / "e.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)))
    ingest_execution_events(path)
    write(path, line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=1.0)), "a")
    with CaptureQueriesContext(connection) as queries:
        assert ingest_execution_events(path).applied == 1
    cursor_reads = [
        query["sql"]
        for query in queries.captured_queries
        if 'FROM "execution_eventfilecursor"' in query["sql"]
    ]
    # The rotation check's read serves the batch; the locked read re-checks it (a moved cursor reads again).
    assert len(cursor_reads) == 2 and "FOR UPDATE" in cursor_reads[1]
    order.refresh_from_db()
    assert order.status == "FILLED"


def test_truncated_file_is_read_again_from_the_start(tmp_path: Path, order: TradeOrder) -> None:
    path = write(tmp_path / "e.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)) * 3)
    ingest_execution_events(path)
    write(path, line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=1.0)))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.resets == 1 and order.status == "FILLED"


def test_replaced_file_longer_than_offset_is_read_from_the_start(tmp_path: Path, order: TradeOrder) -> None:
    path = write(tmp_path / "e.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)))
    ingest_execution_events(path)
    replacement = write(
        tmp_path / "new.jsonl", line(**ev("oi_9_1_1", "Filled", 2, run="r-2", filled=10, fill_price=1.0)) * 3
    )
    os.replace(replacement, path)
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.resets == 1 and report.applied == 1 and order.filled_quantity == Decimal(10)


def test_rewritten_in_place_file_with_new_first_line_is_read_from_the_start(
    tmp_path: Path, order: TradeOrder
) -> None:
    path = write(tmp_path / "e.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)))
    ingest_execution_events(path)
    with open(path, "r+", encoding="utf-8") as handle:  # same inode, new content
        handle.seek(0)
        handle.write(line(**ev("oi_9_1_1", "Filled", 2, run="r-2", filled=10, fill_price=1.0)) * 2)
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.resets == 1 and order.status == "FILLED"


def test_missing_file_is_not_an_error(tmp_path: Path) -> None:
    report = ingest_execution_events(tmp_path / "absent.jsonl")
    assert report.lines_read == 0


def test_ingest_without_path_reads_every_engines_events_file(execution_root: Path, order: TradeOrder) -> None:
    write(execution_root / "engines" / "paper" / "events.jsonl", line(**ev("oi_9_1_1", "Submitted", 1)))
    other = TradeOrderFactory(client_order_id="oi_live", project=ProjectFactory(mode="live"))
    write(
        execution_root / "engines" / "live" / "events.jsonl", line(**ev("oi_live", "Submitted", 1, run="r-l"))
    )
    report = ingest_execution_events()
    order.refresh_from_db()
    other.refresh_from_db()
    assert report.files == 2 and order.status == other.status == "SUBMITTED"
