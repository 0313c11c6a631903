"""Reconciliation: holdings lines against the ledger; the engines API and command show engine state."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from execution.ingest.events import ingest_execution_events
from execution.models import BadEventLine, HoldingsDiscrepancy, HoldingsPart
from execution.simulator import split_holdings_line
from orders.services import apply_fill_to_order
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def holdings(*items: tuple[str, float]) -> str:
    line = {
        "type": "holdings",
        "run_id": "r-h",
        "time": "2026-11-25T15:00:00Z",
        "holdings": [{"symbol": s, "quantity": q, "avg_price": 100.0} for s, q in items],
    }
    return json.dumps(line) + "\n"


@pytest.fixture
def events_file(execution_root: Path) -> Path:
    path = execution_root / "engines" / "paper" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.touch()
    return path


def test_disagreeing_holdings_are_flagged_until_they_agree(
    project: Any, events_file: Path, api: Client, user: Any
) -> None:
    user.is_staff = True  # desk-wide holdings are for staff
    user.save()
    seed = TradeOrderFactory(project=project, quantity=Decimal(10))
    apply_fill_to_order(seed, quantity=10, price=100)
    with open(events_file, "a") as handle:
        handle.write(holdings(("AAPL", 7), ("TSLA", 3)))
    ingest_execution_events()
    flagged = {d.symbol: (d.engine_quantity, d.ledger_quantity) for d in HoldingsDiscrepancy.objects.all()}
    assert flagged == {"AAPL": (Decimal(7), Decimal(10)), "TSLA": (Decimal(3), Decimal(0))}
    paper = next(e for e in api.get("/api/trade/engines").json() if e["mode"] == "paper")
    assert {d["symbol"] for d in paper["discrepancies"]} == {"AAPL", "TSLA"}

    with open(events_file, "a") as handle:
        handle.write(holdings(("AAPL", 10)))
    ingest_execution_events()
    assert not HoldingsDiscrepancy.objects.exists()


def test_holdings_are_compared_after_the_fills_written_before_them(project: Any, events_file: Path) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_h_1", quantity=Decimal(4))
    fill = {
        "tag": "oi_h_1",
        "status": "Filled",
        "order_id": 1,
        "event_id": 1,
        "run_id": "r-h",
        "filled": 4,
        "fill_price": 50.0,
        "time": "2026-11-25T14:59:00Z",
    }
    with open(events_file, "a") as handle:
        handle.write(json.dumps(fill) + "\n" + holdings(("AAPL", 4)))
    ingest_execution_events()
    order.refresh_from_db()
    assert order.status == "FILLED" and not HoldingsDiscrepancy.objects.exists()


def test_live_holdings_are_compared_with_live_positions_only(project: Any, execution_root: Path) -> None:
    seed = TradeOrderFactory(project=project, quantity=Decimal(2))
    apply_fill_to_order(seed, quantity=2, price=1)
    path = execution_root / "engines" / "live" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(holdings())
    ingest_execution_events()
    assert not HoldingsDiscrepancy.objects.exists()


def test_engine_command_reports_state_and_checks_the_projects_mode(project: Any) -> None:
    out = StringIO()
    with pytest.raises(SystemExit) as stopped:  # LSB: status of a service that is not running is 3
        call_command("engine", "status", project.name, "paper", stdout=out)
    assert stopped.value.code == 3
    assert json.loads(out.getvalue())["state"] == "not started"
    with pytest.raises(Exception, match="paper mode, not live"):
        call_command("engine", "status", project.name, "live", stdout=StringIO())


# A split snapshot: the parts the engines write for a snapshot longer than the line cap.


def split_snapshot(*items: tuple[str, float], cap: int = 1024) -> list[str]:
    """The holdings line of `items` as the simulator splits it under `cap` (at least three parts here)."""
    line = json.loads(holdings(*items))
    parts = split_holdings_line(line, snapshot=1, max_line_bytes=cap)
    assert len(parts) >= 3
    return [json.dumps(part) + "\n" for part in parts]


def append(path: Path, *lines: str) -> None:
    with open(path, "a") as handle:
        handle.write("".join(lines))


def flagged() -> dict[str, tuple[Decimal, Decimal]]:
    return {d.symbol: (d.engine_quantity, d.ledger_quantity) for d in HoldingsDiscrepancy.objects.all()}


MANY = [("AAPL", 7.0), *((f"S{i:03d}", float(i + 1)) for i in range(40))]


def test_a_snapshot_split_over_two_ingest_batches_reconciles_like_its_single_line(
    project: Any, events_file: Path
) -> None:
    seed = TradeOrderFactory(project=project, quantity=Decimal(10))
    apply_fill_to_order(seed, quantity=10, price=100)
    append(events_file, holdings(*MANY))
    ingest_execution_events()
    from_single_line = flagged()
    assert len(from_single_line) == len(MANY)
    append(events_file, holdings(("AAPL", 10)))
    ingest_execution_events()
    assert not flagged()

    first, *rest = split_snapshot(*MANY)
    append(events_file, first)
    ingest_execution_events()
    assert not flagged() and HoldingsPart.objects.count() == 1  # a part alone is kept, never compared
    append(events_file, *rest)
    ingest_execution_events()
    assert flagged() == from_single_line
    assert not HoldingsPart.objects.exists()


def test_an_incomplete_snapshot_is_dropped_when_a_later_one_starts_and_never_compared(
    project: Any, events_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed = TradeOrderFactory(project=project, quantity=Decimal(10))
    apply_fill_to_order(seed, quantity=10, price=100)
    append(events_file, holdings(("AAPL", 7)))
    ingest_execution_events()
    assert flagged() == {"AAPL": (Decimal(7), Decimal(10))}

    first, *rest = split_snapshot(*MANY)
    append(events_file, first)
    ingest_execution_events()
    assert flagged() == {"AAPL": (Decimal(7), Decimal(10))}  # the old comparison stands
    with caplog.at_level("WARNING", logger="execution.ingest.reconcile"):
        append(events_file, holdings(("AAPL", 10)))
        ingest_execution_events()
    dropped = [r for r in caplog.records if r.getMessage() == "incomplete holdings snapshot dropped"]
    assert [(r.reason, r.parts_received, r.parts) for r in dropped] == [  # type: ignore[attr-defined]
        ("a later snapshot started", 1, len(rest) + 1)
    ]
    assert not flagged() and not HoldingsPart.objects.exists()

    append(events_file, *rest)  # the missing parts, too late: they never make a whole snapshot
    ingest_execution_events()
    assert not flagged()


def test_a_snapshot_left_incomplete_when_its_run_ends_is_dropped(
    project: Any, events_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second, *_ = split_snapshot(*MANY)
    stopped = {"type": "engine", "status": "stopped", "run_id": "r-h", "time": "2026-11-25T15:00:01Z"}
    with caplog.at_level("WARNING", logger="execution.ingest.reconcile"):
        append(events_file, first, second, json.dumps(stopped) + "\n")
        ingest_execution_events()
    dropped = [r for r in caplog.records if r.getMessage() == "incomplete holdings snapshot dropped"]
    assert [(r.reason, r.parts_received) for r in dropped] == [("the run ended", 2)]  # type: ignore[attr-defined]
    assert not flagged() and not HoldingsPart.objects.exists()


@pytest.mark.parametrize(
    "numbers",
    [
        {"snapshot": 1, "part": 0, "parts": 2},
        {"snapshot": 1, "part": 3, "parts": 2},
        {"snapshot": 1, "part": True, "parts": 2},
        {"snapshot": None, "part": 1, "parts": 2},
        {"snapshot": 1, "part": 1},
    ],
)
def test_a_part_with_numbers_that_break_the_contract_is_not_usable(
    events_file: Path, numbers: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    line = {**json.loads(holdings(("AAPL", 1))), **numbers}
    with caplog.at_level("WARNING"):
        append(events_file, json.dumps(line) + "\n")
        report = ingest_execution_events()
    # A bad line like any other: counted in the batch, kept for staff, no warning of its own.
    assert report.bad == 1
    assert [r.getMessage() for r in caplog.records if r.name == "execution.ingest.reconcile"] == []
    [bad] = BadEventLine.objects.all()
    assert (
        bad.reason.startswith("holdings part not usable") and bad.offset == 0 and '"holdings"' in bad.excerpt
    )
    assert not flagged() and not HoldingsPart.objects.exists()


def test_unusable_holdings_lines_are_counted_per_batch_with_the_other_bad_lines(
    events_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    junk = json.dumps({"type": "holdings", "run_id": "r-h", "holdings": [{"symbol": 1}]}) + "\n"
    with caplog.at_level("WARNING"):
        append(events_file, junk * 30 + "not json\n" + junk * 30)
        report = ingest_execution_events()
    assert report.bad == 61 and report.holdings_lines == 60
    batch_lines = [r for r in caplog.records if r.getMessage() == "events batch"]
    assert len(batch_lines) == 1 and batch_lines[0].bad == 61
    assert [r for r in caplog.records if r.name == "execution.ingest.reconcile"] == []
    assert BadEventLine.objects.count() == 61
    offsets = list(BadEventLine.objects.order_by("offset").values_list("offset", flat=True))
    assert offsets[:2] == [0, len(junk)]
