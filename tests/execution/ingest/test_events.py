"""The events-file rules of the engine contract, one behaviour per test."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution.contract import canonical_json
from execution.ingest import events as events_module
from execution.ingest.events import apply_execution_events, ingest_execution_events, parse_lines
from execution.models import BadEventLine, EventFileCursor
from orders.models import ExecutionEvent, Position, TradeFill, TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db


def line(**event: Any) -> str:
    """One events-file line."""
    return json.dumps(event) + "\n"


def write(path: Path, text: str | bytes, mode: str = "w") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        with open(path, mode + "b") as handle:
            handle.write(text)
    else:
        with open(path, mode, encoding="utf-8", newline="") as handle:
            handle.write(text)
    return path


def ev(
    tag: str, status: str, event_id: int, *, run: str = "r-1", order_id: int = 7, **extra: Any
) -> dict[str, Any]:
    return {
        "tag": tag,
        "status": status,
        "order_id": order_id,
        "event_id": event_id,
        "run_id": run,
        "time": f"2026-11-25T14:30:{event_id:02d}Z",
        **extra,
    }


@pytest.fixture
def order() -> TradeOrder:
    return TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(10))


# --- the three sample files -----------------------------------------------------------------------------


def test_seed_basic_file_fills_the_order(copy_fixture: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_0_0_123", symbol="AAPL", side="BUY", quantity=Decimal(1))
    report = ingest_execution_events(copy_fixture("seed-basic.jsonl"))
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.avg_fill_price, order.ib_order_id) == (
        "FILLED",
        Decimal(1),
        Decimal(100),
        1001,
    )
    assert report.lines_read == 2 and report.applied == 2 and report.bad == 0


def test_partial_fills_file_sums_fills_and_weights_the_average(copy_fixture: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_1_1_500", symbol="MSFT", side="BUY", quantity=Decimal(100))
    ingest_execution_events(copy_fixture("partial-fills.jsonl"))
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.filled_quantity == Decimal(100)
    assert order.avg_fill_price == Decimal("410.45")
    assert order.fees == Decimal("3.0")
    assert TradeFill.objects.filter(order=order).count() == 3
    position = Position.objects.get(project=order.project, mode="paper", symbol="MSFT")
    assert position.quantity == Decimal(100) and position.avg_cost == Decimal("410.45")


def test_mixed_bad_lines_file_report_and_torn_line_left_pending(copy_fixture: Any) -> None:
    rejected = TradeOrderFactory(client_order_id="oi_2_1_77")
    pending = TradeOrderFactory(client_order_id="oi_2_1_78")
    path = copy_fixture("mixed-bad-lines.jsonl")
    report = ingest_execution_events(path)
    assert (report.lines_read, report.applied, report.bad) == (7, 2, 3)
    assert report.blank == 1 and report.engine_lines == 1
    rejected.refresh_from_db()
    pending.refresh_from_db()
    assert rejected.status == "REJECTED"
    assert rejected.status_message == "Order quantity must not be zero"
    assert pending.status == "NEW"
    # The torn line is completed later: only then is it applied.
    write(path, 'me": "2026-11-25T14:30:01Z"}\n', "a")
    report = ingest_execution_events(path)
    pending.refresh_from_db()
    assert report.lines_read == 1 and report.applied == 1
    assert pending.status == "SUBMITTED"


# --- parsing ------------------------------------------------------------------------------------------


def test_two_line_file_hands_both_events_to_apply(
    tmp_path: Path, monkeypatch: Any, order: TradeOrder
) -> None:
    seen: list[list[Any]] = []
    real = events_module.apply_engine_events

    def recorder(batch: Any, **kwargs: Any) -> Any:
        seen.append(list(batch))
        return real(batch, **kwargs)

    monkeypatch.setattr(events_module, "apply_engine_events", recorder)
    path = write(
        tmp_path / "e.jsonl",
        line(**ev("oi_9_1_1", "Submitted", 1))
        + line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=5.0)),
    )
    ingest_execution_events(path)
    assert [e.status for batch in seen for e in batch] == ["Submitted", "Filled"]


@pytest.mark.parametrize(
    "bad",
    [
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": "abc", "fill_price": 1}',
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": -4, "fill_price": 1}',
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": NaN, "fill_price": 1}',
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": 1e400, "fill_price": 1}',
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": 1, "fill_price": -1}',
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": 1, "fill_price": 1, "fee": Infinity}',
        '{"tag": "oi_9_1_1", "status": "Filled", "filled": true, "fill_price": 1}',
    ],
)
def test_bad_numbers_are_counted_and_never_repaired(tmp_path: Path, order: TradeOrder, bad: str) -> None:
    path = write(tmp_path / "e.jsonl", bad + "\n" + line(**ev("oi_9_1_1", "Submitted", 1)))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 1 and report.applied == 1
    assert order.filled_quantity == 0 and order.status == "SUBMITTED"
    assert not TradeFill.objects.exists()


def test_crlf_line_endings_and_bom_are_accepted(tmp_path: Path, order: TradeOrder) -> None:
    body = (line(**ev("oi_9_1_1", "Submitted", 1)).rstrip("\n") + "\r\n").encode()
    path = write(tmp_path / "e.jsonl", b"\xef\xbb\xbf" + body)
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 0 and order.status == "SUBMITTED"


def test_one_bad_line_never_stops_the_lines_after_it(tmp_path: Path, order: TradeOrder) -> None:
    path = write(tmp_path / "e.jsonl", "\x00\xff garbage\n[]\n42\n" + line(**ev("oi_9_1_1", "Submitted", 1)))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 3 and order.status == "SUBMITTED"


def test_parser_counts_undecodable_bytes_as_bad() -> None:
    batch = parse_lines([b"\xff\xfe{", b'{"tag": 1}', b""])
    assert batch.report.bad == 2 and batch.report.blank == 1 and batch.events == []


# --- identity and dedupe --------------------------------------------------------------------------------


def test_duplicate_event_is_applied_once(tmp_path: Path, order: TradeOrder) -> None:
    fill = line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=5.0))
    path = write(tmp_path / "e.jsonl", fill + fill)
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.applied == 1 and report.duplicates == 1
    assert order.filled_quantity == Decimal(10)


def test_replaying_a_copied_file_applies_nothing_twice(tmp_path: Path, copy_fixture: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_1_1_500", symbol="MSFT", quantity=Decimal(100))
    first = copy_fixture("partial-fills.jsonl", "a.jsonl")
    second = copy_fixture("partial-fills.jsonl", "b.jsonl")
    ingest_execution_events(first)
    report = ingest_execution_events(second)
    order.refresh_from_db()
    assert report.applied == 0 and report.duplicates == 4
    assert order.filled_quantity == Decimal(100)


def test_events_without_ids_are_identified_by_canonical_json_hash(copy_fixture: Any) -> None:
    TradeOrderFactory(client_order_id="oi_0_0_123")
    ingest_execution_events(copy_fixture("seed-basic.jsonl"))
    first = json.loads(
        (Path(__file__).parents[2] / "fixtures" / "seed-basic.jsonl").read_text().splitlines()[0]
    )
    expected = hashlib.sha256(
        json.dumps(first, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert ExecutionEvent.objects.filter(event_key=expected).exists()


def test_dict_and_file_forms_of_an_event_share_one_identity(tmp_path: Path, order: TradeOrder) -> None:
    event = {
        "tag": "oi_9_1_1",
        "status": "Filled",
        "filled": 10,
        "fill_price": 5.0,
        "time": "2026-11-25T14:30:00Z",
    }
    apply_execution_events([event])
    report = ingest_execution_events(write(tmp_path / "e.jsonl", json.dumps(event) + "\n"))
    order.refresh_from_db()
    assert report.duplicates == 1 and order.filled_quantity == Decimal(10)


def test_order_ids_reused_by_a_new_run_are_new_events(order: TradeOrder) -> None:
    other = TradeOrderFactory(client_order_id="oi_9_1_2", quantity=Decimal(5))
    apply_execution_events([ev("oi_9_1_1", "Filled", 1, run="r-1", order_id=1, filled=10, fill_price=1.0)])
    report = apply_execution_events(
        [ev("oi_9_1_2", "Filled", 1, run="r-2", order_id=1, filled=5, fill_price=2.0)]
    )
    order.refresh_from_db()
    other.refresh_from_db()
    assert report.applied == 1
    assert (order.filled_quantity, other.filled_quantity) == (Decimal(10), Decimal(5))


# --- status rank -----------------------------------------------------------------------------------------


def test_canceled_after_filled_is_recorded_not_applied(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Filled", 1, filled=10, fill_price=1.0)])
    apply_execution_events([ev("oi_9_1_1", "Canceled", 2)])
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.events.get(status="Canceled").outcome == "ignored"


def test_submitted_after_partially_filled_changes_nothing(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "PartiallyFilled", 2, filled=4, fill_price=1.0)])
    apply_execution_events([ev("oi_9_1_1", "Submitted", 1)])
    order.refresh_from_db()
    assert order.status == "PARTIALLY_FILLED" and order.filled_quantity == Decimal(4)


def test_late_fill_after_filled_still_counts(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Filled", 3, filled=6, fill_price=2.0)])
    apply_execution_events([ev("oi_9_1_1", "PartiallyFilled", 2, filled=4, fill_price=1.0)])
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.filled_quantity == Decimal(10)
    assert order.avg_fill_price == Decimal("1.6")


def test_unknown_status_name_is_stored_and_changes_nothing(order: TradeOrder) -> None:
    report = apply_execution_events([ev("oi_9_1_1", "Exploded", 1)])
    order.refresh_from_db()
    assert report.applied == 1 and order.status == "NEW"
    assert order.events.get().status == "Exploded"


def test_new_and_none_statuses_change_nothing(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "New", 1), ev("oi_9_1_1", "None", 2)])
    order.refresh_from_db()
    assert order.status == "NEW"


def test_any_engine_event_replaces_failed(order: TradeOrder) -> None:
    from orders.services import update_trade_order_status

    update_trade_order_status(order, "FAILED", message="broker down")
    apply_execution_events([ev("oi_9_1_1", "Submitted", 1)])
    order.refresh_from_db()
    assert order.status == "SUBMITTED"


def test_invalid_maps_to_rejected_with_its_message(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Invalid", 1, message="no margin")])
    order.refresh_from_db()
    assert (order.status, order.status_message) == ("REJECTED", "no margin")


def test_last_status_ts_is_the_latest_event_time(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Filled", 5, filled=10, fill_price=1.0)])
    apply_execution_events([ev("oi_9_1_1", "Submitted", 1)])
    order.refresh_from_db()
    assert order.last_status_ts.isoformat() == "2026-11-25T14:30:05+00:00"
    assert order.ib_order_id == 7


def test_unmatched_tags_are_kept_for_review() -> None:
    report = apply_execution_events([ev("oi_nobody", "Submitted", 1)])
    assert report.unmatched == 1
    assert ExecutionEvent.objects.get(tag="oi_nobody").outcome == "unmatched"


def test_sell_fill_moves_position_down_and_realises_pnl() -> None:
    project = ProjectFactory()
    buy = TradeOrderFactory(project=project, client_order_id="b1", side="BUY", quantity=Decimal(10))
    sell = TradeOrderFactory(project=project, client_order_id="s1", side="SELL", quantity=Decimal(4))
    apply_execution_events([ev("b1", "Filled", 1, order_id=1, filled=10, fill_price=100.0)])
    apply_execution_events([ev("s1", "Filled", 2, order_id=2, filled=4, fill_price=110.0)])
    position = Position.objects.get(project=project, symbol="AAPL")
    assert position.quantity == Decimal(6)
    assert position.avg_cost == Decimal(100)
    assert position.realized_pnl == Decimal(40)
    assert buy.pk and sell.pk


def test_paper_and_live_positions_never_mix() -> None:
    paper = TradeOrderFactory(client_order_id="p1", project=ProjectFactory(mode="paper"))
    live = TradeOrderFactory(client_order_id="l1", project=ProjectFactory(mode="live"))
    apply_execution_events(
        [
            ev("p1", "Filled", 1, order_id=1, filled=1, fill_price=1.0),
            ev("l1", "Filled", 1, order_id=2, filled=1, fill_price=1.0),
        ]
    )
    assert Position.objects.get(project=paper.project).mode == "paper"
    assert Position.objects.get(project=live.project).mode == "live"


# --- the file cursor --------------------------------------------------------------------------------------


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


def test_nul_characters_are_a_bad_line_not_a_stuck_ingest(tmp_path: Path, order: TradeOrder) -> None:
    nul = '{"tag": "oi_9_1_1", "status": "Submitted", "message": "a\\u0000b", "order_id": 7, "event_id": 9}'
    path = write(tmp_path / "e.jsonl", nul + "\n" + line(**ev("oi_9_1_1", "Submitted", 1)))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 1 and report.applied == 1 and order.status == "SUBMITTED"


def test_a_line_the_database_refuses_never_blocks_the_lines_after_it(
    tmp_path: Path, order: TradeOrder, monkeypatch: Any
) -> None:
    from django.db import DataError

    real = events_module.apply_engine_events

    def refuse_poison(batch: Any, **kwargs: Any) -> Any:
        if any(event.message == "poison" for event in batch):
            raise DataError("value the database cannot store")
        return real(batch, **kwargs)

    monkeypatch.setattr(events_module, "apply_engine_events", refuse_poison)
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

    real = events_module.apply_engine_events
    batches: list[int] = []

    def refuse_poison(batch: Any, **kwargs: Any) -> Any:
        batches.append(len(batch))
        if any(event.message == "poison" for event in batch):
            raise DataError("value the database cannot store")
        return real(batch, **kwargs)

    monkeypatch.setattr(events_module, "apply_engine_events", refuse_poison)

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


@pytest.mark.parametrize("run_id", ["r-1", 'r"quoted\\', "r-\u00e9\u4e2d", "r\ttab"])
def test_identity_is_the_hash_of_the_canonical_id_triple(run_id: str) -> None:
    from execution.contract import canonical_json, event_identity

    event = {"tag": "t", "status": "Filled", "run_id": run_id, "order_id": 12, "event_id": -3}
    expected = hashlib.sha256(("id:" + canonical_json([run_id, 12, -3])).encode()).hexdigest()
    assert event_identity(event) == expected


# --- logging: one line per batch, never one per event ------------------------------------------------------


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


def test_nul_is_found_in_the_raw_line_and_escaped_backslashes_are_not_nul(
    tmp_path: Path, order: TradeOrder
) -> None:
    # "a\\u0000b" in JSON is a backslash followed by u0000: no NUL, a good line.
    text = (
        '{"tag": "oi_9_1_1", "status": "Submitted", "message": "a\\\\u0000b", "order_id": 7, "event_id": 9}'
    )
    report = ingest_execution_events(write(tmp_path / "e.jsonl", text + "\n"))
    assert report.bad == 0 and report.applied == 1
    assert ExecutionEvent.objects.get().message == "a\\u0000b"


def test_lines_orjson_reads_differently_are_decoded_as_json_loads_does(tmp_path: Path) -> None:
    # No id triple, so the identity is the hash of the whole JSON: a 20-digit integer must stay an integer.
    big = '{"tag": "oi_x", "status": "Submitted", "ref": 12345678901234567890123}'
    nan = '{"tag": "oi_y", "status": "Submitted", "ref": NaN}'
    batch = parse_lines([big.encode(), nan.encode()])
    first, second = batch.events
    assert first.payload["ref"] == 12345678901234567890123 and first.payload_text is None
    assert first.key == hashlib.sha256(canonical_json(json.loads(big)).encode()).hexdigest()
    assert second.payload_text is None and second.payload["ref"] != second.payload["ref"]


def test_ingest_hands_the_files_parsed_events_to_the_public_batch_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"tag": "oi_1", "status": "Submitted", "order_id": 1, "event_id": 1, "run_id": "r1"}\n'
        '{"tag": "oi_1", "status": "Filled", "order_id": 1, "event_id": 2, "run_id": "r1", '
        '"filled": 1, "fill_price": 100}\n'
    )
    seen: list[dict[str, Any]] = []

    def fake_apply(events: list[dict[str, Any]], **kwargs: Any) -> Any:
        seen.extend(events)
        return kwargs["parsed"].report

    monkeypatch.setattr(events_module, "apply_execution_events", fake_apply)
    events_module.ingest_execution_events(path)
    assert [(event["tag"], event["status"]) for event in seen] == [("oi_1", "Submitted"), ("oi_1", "Filled")]
