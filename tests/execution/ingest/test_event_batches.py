"""Ingest in batches: small batches give the same result, a line the database refuses is found by halving, one log line per batch."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution.ingest import apply as apply_module
from execution.ingest.events import ingest_execution_events
from execution.models import BadEventLine, EventFileCursor
from orders.models import ExecutionEvent, TradeOrder
from tests.execution.ingest.event_lines import ev, line, order, write

pytestmark = pytest.mark.django_db

__all__ = ["order"]  # the fixture this module's tests use


def test_small_batches_give_the_same_result(tmp_path: Path, order: TradeOrder) -> None:
    from execution.ingest.events import ingest_file

    lines = [
        line(**ev("oi_9_1_1", "PartiallyFilled", i, filled=1, fill_price=float(i))) for i in range(1, 11)
    ]
    path = write(tmp_path / "e.jsonl", "".join(lines))
    report = ingest_file(path, batch_lines=3)
    order.refresh_from_db()
    assert report.applied == 10 and order.filled_quantity == Decimal(10)
    assert order.avg_fill_price == Decimal("5.5")


def test_a_line_the_database_refuses_never_blocks_the_lines_after_it(
    tmp_path: Path, order: TradeOrder, monkeypatch: Any
) -> None:
    from django.db import DataError

    real = apply_module.apply_engine_events

    def refuse_poison(batch: Any, **kwargs: Any) -> Any:
        if any(event.message == "poison" for event in batch):
            raise DataError("value the database cannot store")
        return real(batch, **kwargs)

    monkeypatch.setattr(apply_module, "apply_engine_events", refuse_poison)
    path = write(
        tmp_path / "e.jsonl",
        line(**ev("oi_9_1_1", "Submitted", 1, message="poison"))
        + line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=1.0)),
    )
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 1 and report.applied == 1
    assert order.status == "FILLED" and EventFileCursor.objects.get().offset == path.stat().st_size


def test_a_refused_line_is_found_by_halving_not_by_applying_every_line_alone(
    tmp_path: Path, order: TradeOrder, monkeypatch: Any
) -> None:
    from django.db import DataError

    real = apply_module.apply_engine_events
    batches: list[int] = []

    def refuse_poison(batch: Any, **kwargs: Any) -> Any:
        batches.append(len(batch))
        if any(event.message == "poison" for event in batch):
            raise DataError("value the database cannot store")
        return real(batch, **kwargs)

    monkeypatch.setattr(apply_module, "apply_engine_events", refuse_poison)

    def at(i: int) -> str:
        return f"2026-11-25T14:{30 + i // 60}:{i % 60:02d}Z"

    lines = [
        line(**ev("oi_9_1_1", "PartiallyFilled", i, filled=1, fill_price=1.0, time=at(i)))
        for i in range(1, 64)
    ]
    lines.insert(40, line(**ev("oi_9_1_1", "Submitted", 99, message="poison", time=at(99))))
    path = write(tmp_path / "e.jsonl", "".join(lines))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 1 and report.applied == 63 and order.filled_quantity == Decimal(63)
    # The 64-line batch, then two halves per level down to the refused line: 1 + 2 * log2(64).
    assert len(batches) == 13
    bad = BadEventLine.objects.get()
    assert bad.reason.startswith("refused by the database") and bad.offset == sum(map(len, lines[:40]))


def test_a_batch_logs_one_line_of_counts_whatever_its_events(
    tmp_path: Path, order: TradeOrder, caplog: pytest.LogCaptureFixture
) -> None:
    from execution.ingest.events import ingest_file

    lines = [line(**ev("oi_9_1_1", "Filled", 50, filled=10, fill_price=1.0))]
    lines += [line(**ev("oi_9_1_1", "Submitted", i)) for i in range(1, 20)]  # status not applied, x19
    lines += [line(**ev("oi_nobody", "Submitted", i, order_id=8)) for i in range(1, 6)]  # unmatched, x5
    lines += ["not json\n", '{"tag": 1}\n', '{"type": "engine", "status": "started"}\n']  # bad x2, engine
    nul = '{"tag": "oi_9_1_1", "status": "Submitted", "message": "a\\u0000b", "order_id": 7, "event_id": 99}'
    lines.append(nul + "\n")
    path = write(tmp_path / "e.jsonl", "".join(lines))
    caplog.set_level(logging.DEBUG)
    report = ingest_file(path, batch_lines=10)
    batches = 3  # 29 lines in batches of 10
    records = [r for r in caplog.records if r.name.startswith(("orders", "execution"))]
    assert [r.getMessage() for r in records] == ["events batch"] * batches, [r.getMessage() for r in records]
    assert (report.applied, report.ignored, report.unmatched, report.bad) == (20, 19, 5, 3)
    assert sum(getattr(r, "ignored", 0) for r in records) == 19
    assert sum(getattr(r, "unmatched", 0) for r in records) == 5
    assert sum(getattr(r, "bad", 0) for r in records) == 3
    assert ExecutionEvent.objects.filter(outcome="ignored").count() == 19
    assert ExecutionEvent.objects.filter(outcome="unmatched").count() == 5
