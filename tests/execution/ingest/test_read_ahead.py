"""The next chunk read and parsed in a thread while the current one is applied: used once, only where it fits."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from execution.ingest import events as ingest_events
from execution.ingest import read_ahead
from execution.ingest.events import ingest_file
from execution.models import EventFileCursor
from orders.models import ExecutionEvent, TradeOrder
from tests.execution.ingest.event_lines import ev, line, write
from tests.factories import TradeOrderFactory


def _fills(count: int) -> str:
    return "".join(
        line(**ev("oi_9_1_1", "PartiallyFilled", i, filled=1, fill_price=float(i)))
        for i in range(1, count + 1)
    )


def _counted_parses(monkeypatch: Any) -> list[tuple[str, int]]:
    """Every parse_lines call of the drain and the read-ahead: (thread name, lines)."""
    calls: list[tuple[str, int]] = []
    original = ingest_events.parse_lines

    def parse(lines: Any, **kwargs: Any) -> Any:
        lines = list(lines)
        calls.append((threading.current_thread().name, len(lines)))
        return original(lines, **kwargs)

    monkeypatch.setattr(ingest_events, "parse_lines", parse)
    monkeypatch.setattr(read_ahead, "parse_lines", parse)
    return calls


@pytest.mark.django_db
def test_each_full_chunk_after_the_first_is_parsed_ahead_once_and_applied_once(
    tmp_path: Path, monkeypatch: Any
) -> None:
    order = TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(20))
    calls = _counted_parses(monkeypatch)
    path = write(tmp_path / "e.jsonl", _fills(14))
    report = ingest_file(path, batch_lines=4)
    order.refresh_from_db()
    assert report.applied == 14 and report.duplicates == 0 and order.filled_quantity == Decimal(14)
    # Chunks of 4, 4, 4 and 2 lines: the second and third are parsed ahead; the last is short (the file's
    # end, which may still grow) and read again by the drain. No line is parsed twice.
    assert calls == [("MainThread", 4), ("ingest-read-ahead", 4), ("ingest-read-ahead", 4), ("MainThread", 2)]
    assert EventFileCursor.objects.get().lines_read == 14


@pytest.mark.django_db
def test_a_read_ahead_past_a_chunk_the_budget_cut_short_is_dropped(
    tmp_path: Path, monkeypatch: Any, settings: Any
) -> None:
    # The next chunk is read ahead from where this one ends; a step cut by the time budget leaves the cursor
    # inside the chunk, and the drain goes on from there, not from where the read-ahead started.
    order = TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(20))
    monkeypatch.setattr(ingest_events, "APPLY_STEP", 2)
    settings.TRADEDESK_INGEST_TRANSACTION_SECONDS = 0
    path = write(tmp_path / "e.jsonl", _fills(12))
    report = ingest_file(path, batch_lines=4)
    order.refresh_from_db()
    assert report.applied == 12 and report.duplicates == 0 and order.filled_quantity == Decimal(12)
    assert EventFileCursor.objects.get().lines_read == 12


@pytest.mark.django_db
def test_a_read_ahead_of_a_file_truncated_meanwhile_is_dropped(tmp_path: Path, monkeypatch: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(20))
    path = write(tmp_path / "e.jsonl", _fills(8))
    observe = ingest_events.metrics.ingest_batch_observe
    rewritten: list[bool] = []

    def after_commit(**counts: Any) -> None:
        observe(**counts)
        if not rewritten:  # after the first chunk's commit, its read-ahead already started: the file shrinks
            rewritten.append(True)
            write(path, line(**ev("oi_9_1_1", "PartiallyFilled", 50, filled=2, fill_price=3.0)))

    monkeypatch.setattr(ingest_events.metrics, "ingest_batch_observe", after_commit)
    report = ingest_file(path, batch_lines=4)
    order.refresh_from_db()
    # The first 4 fills, then the file read again from its start: its one line, nothing of the read-ahead.
    assert report.resets == 1 and report.applied == 5
    assert order.filled_quantity == Decimal(6)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a second ingest on its own connection")
def test_a_read_ahead_is_dropped_when_another_ingest_moved_the_cursor_meanwhile(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # Between two chunks of one drain (its next chunk already read ahead), an ingest on another connection
    # applies that chunk and moves the cursor: the locked cursor differs from the one the drain read, so it
    # reads on from where the cursor now stands.
    order = TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(20))
    path = write(tmp_path / "e.jsonl", _fills(12))
    observe = ingest_events.metrics.ingest_batch_observe
    other: list[Any] = []
    started: list[bool] = []

    def run_other() -> None:
        try:
            other.append(ingest_file(path, batch_lines=4, max_batches=1))
        except BaseException as exc:  # reported below
            other.append(exc)
        finally:
            connection.close()

    def after_commit(**counts: Any) -> None:
        observe(**counts)
        if not started:  # once: the other ingest's own commit comes through here too
            started.append(True)
            thread = threading.Thread(target=run_other)
            thread.start()
            thread.join()

    monkeypatch.setattr(ingest_events.metrics, "ingest_batch_observe", after_commit)
    report = ingest_file(path, batch_lines=4)
    assert len(other) == 1 and not isinstance(other[0], BaseException), other
    assert other[0].applied == 4 and report.applied == 8
    # Every line read once between the two ingests: none applied again as a duplicate.
    assert report.duplicates == 0 and other[0].duplicates == 0
    assert EventFileCursor.objects.get().lines_read == 12
    assert ExecutionEvent.objects.count() == 12
    order = TradeOrder.objects.get(pk=order.pk)
    assert order.filled_quantity == Decimal(12)
