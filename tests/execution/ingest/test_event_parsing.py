"""Parsing an events file's lines: bad numbers, encodings, NUL and undecodable bytes are bad lines that never stop the lines after them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from execution.contract import canonical_json
from execution.ingest.events import ingest_execution_events, parse_lines
from orders.models import ExecutionEvent, TradeFill, TradeOrder
from tests.execution.ingest.event_lines import ev, line, order, write

pytestmark = pytest.mark.django_db

__all__ = ["order"]  # the fixture this module's tests use


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


def test_nul_characters_are_a_bad_line_not_a_stuck_ingest(tmp_path: Path, order: TradeOrder) -> None:
    nul = '{"tag": "oi_9_1_1", "status": "Submitted", "message": "a\\u0000b", "order_id": 7, "event_id": 9}'
    path = write(tmp_path / "e.jsonl", nul + "\n" + line(**ev("oi_9_1_1", "Submitted", 1)))
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.bad == 1 and report.applied == 1 and order.status == "SUBMITTED"


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
