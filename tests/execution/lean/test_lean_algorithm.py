"""The LEAN algorithm's events file: the contract lines its order events become, its engine and holdings lines.

The algorithm runs against the stand-in for LEAN's AlgorithmImports (tests/execution/lean/fake_lean).
LEAN facts the tests hold the algorithm to, read in QuantConnect/Lean at
24863901deffa9ec7985e21ef8fbdb0258efb9e4: LEAN reads IB's holdings only at setup
(Engine/Setup/BrokerageSetupHandler.cs 420) and OnWarmupFinished runs right after it even without warm-up
(Engine/AlgorithmManager.cs 711); on SIGINT the loop ends and OnEndOfAlgorithm runs (AlgorithmManager.cs 616).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from execution.contract import EVENT_KEYS
from tests.execution.lean.fake_lean import (
    BrokerageMessageType,
    FakeSymbol,
    OrderStatus,
    companion,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
    write_intent,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

REPO_ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------------------------------------
# Order events -> contract lines
# ---------------------------------------------------------------------------------------------------------


def test_a_partial_fill_of_a_sell_is_exactly_the_contract_line(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir), run_id="r-20261125T190000-1a2b")
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)

    algo.on_order_event(
        order_event(
            order_id=1,
            id=3,
            status=OrderStatus.PARTIALLY_FILLED,
            fill_quantity=-4.0,  # LEAN's FillQuantity is signed: a sell fills negative
            fill_price=189.31,
            order_fee=SimpleNamespace(value=SimpleNamespace(amount=1.0, currency="USD")),
        )
    )

    line = read_lines(workdir)[-1]
    assert line == {
        "tag": "oi_3_1_1764000000123",
        "status": "PartiallyFilled",
        "order_id": 1,
        "event_id": 3,
        "run_id": "r-20261125T190000-1a2b",
        "symbol": "AAPL",
        "time": "2026-11-25T19:00:01.250Z",
        "filled": 4,
        "fill_price": 189.31,
        "fee": 1,
        "fee_currency": "USD",
        "message": "",
        "broker_ids": ["1001"],  # Order.BrokerId: looked up on the order (not on the OrderEvent)
    }
    assert list(line) == list(EVENT_KEYS)


def test_an_order_placed_from_an_order_command_reports_its_own_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    # LEAN placed this order itself from command-<uuid>.json; the algorithm only sees its events.
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1764000000999")
    algo.on_order_event(
        order_event(
            order_id=7,
            id=2,
            symbol=FakeSymbol("MSFT"),
            status=OrderStatus.FILLED,
            fill_quantity=3,
            fill_price=410.5,
            message="filled at IB",
        )
    )
    line = read_lines(workdir)[-1]
    assert (line["tag"], line["status"], line["order_id"], line["event_id"]) == (
        "oi_4_9_1764000000999",
        "Filled",
        7,
        2,
    )
    assert (line["symbol"], line["filled"], line["fill_price"], line["message"]) == (
        "MSFT",
        3,
        410.5,
        "filled at IB",
    )


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (OrderStatus.NEW, "New"),
        (OrderStatus.SUBMITTED, "Submitted"),
        (OrderStatus.PARTIALLY_FILLED, "PartiallyFilled"),
        (OrderStatus.FILLED, "Filled"),
        (OrderStatus.CANCELED, "Canceled"),
        (OrderStatus.NONE, "None"),
        (OrderStatus.INVALID, "Invalid"),
        (OrderStatus.CANCEL_PENDING, "CancelPending"),
        (OrderStatus.UPDATE_SUBMITTED, "UpdateSubmitted"),
        (5, "Canceled"),  # a bare number still becomes its name
        (4, "OrderStatus4"),  # a number LEAN does not use is never written as a number
        ("Expired", "Expired"),  # an unknown name is reported as it is
    ],
)
def test_status_is_written_as_leans_name(
    lean: types.ModuleType, workdir: Path, status: Any, name: str
) -> None:
    assert companion("lines").status_name(status) == name
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.on_order_event(order_event(status=status))
    assert read_lines(workdir)[-1]["status"] == name


def test_event_line_leaves_out_numbers_it_cannot_write_honestly(lean: types.ModuleType) -> None:
    line = companion("lines").event_line(
        tag="t",
        status="Filled",
        order_id=1,
        event_id=1,
        run_id="r",
        symbol="AAPL",
        time=None,
        fill_quantity=2,
        fill_price=math.nan,
        fee=-0.35,
        fee_currency="USD",
        message="",
    )
    assert "fill_price" not in line
    assert "fee" not in line
    assert line["filled"] == 2
    companion("writer").encode_line(line)  # no NaN can reach the file


def test_times_are_utc_with_milliseconds_and_z(lean: types.ModuleType) -> None:
    assert companion("lines").utc_iso(datetime(2026, 11, 25, 19, 0, 1, 999999)) == "2026-11-25T19:00:01.999Z"
    aware = datetime(2026, 11, 25, 20, 0, 1, 5000, tzinfo=UTC)
    assert companion("lines").utc_iso(aware) == "2026-11-25T20:00:01.005Z"


# ---------------------------------------------------------------------------------------------------------
# Events file: torn lines, engine lines, holdings
# ---------------------------------------------------------------------------------------------------------


def test_a_torn_last_line_is_closed_before_the_first_write(lean: types.ModuleType, workdir: Path) -> None:
    events = workdir / "events.jsonl"
    torn = b'{"tag": "oi_old", "status": "Fil'
    events.write_bytes(b'{"type": "engine", "status": "started", "run_id": "r-0"}\n' + torn)

    algo = make_algorithm(lean, workdir, None)
    algo.initialize()

    raw = events.read_bytes().split(b"\n")
    assert raw[1] == torn  # the torn line is closed off as one bad line ...
    assert json.loads(raw[2])["status"] == "started"  # ... and never swallows this run's first line
    assert raw[-1] == b""


@pytest.mark.parametrize(
    ("content", "closed"),
    [(None, False), (b"", False), (b'{"a": 1}\n', False), (b'{"a": 1}\n{"b"', True), (b'{"a": 1}', True)],
)
def test_close_torn_line(lean: types.ModuleType, tmp_path: Path, content: bytes | None, closed: bool) -> None:
    path = tmp_path / "events.jsonl"
    if content is not None:
        path.write_bytes(content)
    assert companion("writer").close_torn_line(path) is closed
    if content is not None:
        assert path.read_bytes() == content + (b"\n" if closed else b"")
    else:
        assert not path.exists()


def test_started_and_stopped_lines(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir), run_id="r-7")
    algo.initialize()
    algo.on_end_of_algorithm()

    lines = read_lines(workdir)
    first, last = lines[0], lines[-1]
    assert (first["type"], first["status"], first["run_id"], first["engine"]) == (
        "engine",
        "started",
        "r-7",
        "lean",
    )
    assert (last["type"], last["status"], last["run_id"]) == ("engine", "stopped", "r-7")
    assert "tag" not in first and "tag" not in last
    assert lines[-2]["type"] == "holdings"  # a last holdings line before stopping


def test_holdings_line_at_start_and_every_minute(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None, run_id="r-9")
    algo.initialize()
    algo.portfolio.holdings = {
        FakeSymbol("TSLA"): SimpleNamespace(quantity=-3.0, average_price=200.5),
        FakeSymbol("AAPL"): SimpleNamespace(quantity=10.0, average_price=189.2),
        FakeSymbol("MSFT"): SimpleNamespace(quantity=0.0, average_price=0.0),
    }
    algo.on_warmup_finished()  # LEAN has loaded IB's holdings: the start line
    algo.schedule.every(timedelta(minutes=1))()

    holdings = [line for line in read_lines(workdir) if line.get("type") == "holdings"]
    assert len(holdings) == 2
    # The line after setup is IB's holdings as LEAN loaded them; later ones are LEAN's own fills since.
    assert [line["source"] for line in holdings] == ["broker", "lean"]
    for line in holdings:
        assert set(line) == {"type", "run_id", "time", "holdings", "source"}
        assert line["run_id"] == "r-9"
        assert line["holdings"] == [
            {"symbol": "AAPL", "quantity": 10, "avg_price": 189.2},
            {"symbol": "TSLA", "quantity": -3, "avg_price": 200.5},
        ]
    date_rule, _, _ = algo.schedule.events[0]
    assert date_rule == "every_day"


def test_handler_errors_become_error_lines_and_never_raise(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.transactions.fail = RuntimeError("boom")
    algo.on_order_event(order_event())
    algo.on_brokerage_message(
        SimpleNamespace(type=BrokerageMessageType.INFORMATION, code="2104", message="farm OK")
    )
    algo.on_brokerage_message(SimpleNamespace(type=BrokerageMessageType.ERROR, code="1100", message="lost"))
    algo.on_brokerage_disconnect()
    algo.on_brokerage_reconnect()

    engine = [(line["status"], line.get("message", "")) for line in read_lines(workdir)[1:]]
    assert engine == [
        ("error", "on_order_event: RuntimeError: boom"),
        ("error", "brokerage 1100: lost"),
        ("error", "brokerage disconnected"),
        ("reconnected", ""),
    ]
    assert ("error", "tradedesk: brokerage 1100: lost") in algo.calls


def test_not_live_mode_is_reported(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.live_mode = False
    algo.initialize()
    assert any(
        line["status"] == "error" and "live mode" in line["message"] for line in read_lines(workdir)[1:]
    )


def test_every_line_is_one_json_object_ending_in_a_newline(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    for event_id in (1, 2):
        algo.on_order_event(order_event(id=event_id))
    algo.on_end_of_algorithm()
    raw = (workdir / "events.jsonl").read_bytes()
    assert raw.count(b"\n") == len(read_lines(workdir)) == 5


def test_the_algorithm_never_appends_through_a_symlinked_events_file(
    lean: types.ModuleType, tmp_path: Path
) -> None:
    target = tmp_path / "victim"
    target.write_bytes(b"precious\n")
    os.symlink(target, tmp_path / "events.jsonl")
    with pytest.raises(OSError):
        companion("writer").append_line(tmp_path / "events.jsonl", {"type": "engine", "status": "started"})
    assert target.read_bytes() == b"precious\n"


# ---------------------------------------------------------------------------------------------------------
# The algorithm stays out of tradedesk's own imports
# ---------------------------------------------------------------------------------------------------------


def test_tradedesk_never_imports_the_algorithm() -> None:
    code = (
        "import django, sys; django.setup(); "
        "import execution.engine.config, execution.engine.process, execution.dispatch.handover, execution.tasks, execution.ingest.events; "
        "assert 'AlgorithmImports' not in sys.modules and not [m for m in sys.modules if m.startswith('execution.lean.')]"
    )
    env = {"DJANGO_SETTINGS_MODULE": "tradedesk.settings", "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL", "HOME")})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
