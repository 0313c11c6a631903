"""Retention: pruning keeps what the sweep needs; events rotation loses nothing; make clean refuses unsafe."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from execution.engine import process as engines
from execution.ingest.events import ingest_execution_events
from execution.ingest.rotation import events_file_rotate
from execution.models import EventFileCursor
from execution.retention import execution_files_prune, var_clean_blockers
from orders.models import OrderStatus, TradeOrder
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db
OLD = time.time() - 40 * 86400


def old_file(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    os.utime(path, (OLD, OLD))
    return path


def order_files(order: TradeOrder, run_id: str) -> dict[str, Path]:
    """An order's intent, command result and its run's parameters record, all 40 days old."""
    folder = engines.engine_dir("paper")
    intent = old_file(folder / "intents" / f"{order.client_order_id}.json", {"order_intent_id": "x"})
    command_id = engines.command_id_for(order.client_order_id)
    return {
        "intent": intent,
        "result": old_file(folder / f"result-command-{command_id}.json", {"success": True}),
        "run": old_file(
            folder / "runs" / f"{run_id}.parameters.json", {"intent-file": str(intent.resolve())}
        ),
        "exit": old_file(folder / "runs" / f"{run_id}.exit.json", {"run_id": run_id}),
    }


def test_prune_deletes_old_files_of_finished_orders_and_keeps_what_the_sweep_needs(project: Any) -> None:
    done = TradeOrderFactory(project=project, status=OrderStatus.FILLED)
    claimed = TradeOrderFactory(project=project, status=OrderStatus.NEW)  # the sweep still checks it
    working = TradeOrderFactory(
        project=project,
        status=OrderStatus.SUBMITTED,
        params={"source": "test", "mode": "paper", "manual_execution": {"run_id": "r-working"}},
    )
    done_files = order_files(done, "r-done")
    claimed_files = order_files(claimed, "r-claimed")
    working_files = order_files(working, "r-working")
    folder = engines.engine_dir("paper")
    unread = old_file(folder / "command-unread.json", {"Id": "unread"})
    current = old_file(folder / "runs" / "r-current.parameters.json", {"intent-file": ""})
    (folder / "engine.pid").write_text(json.dumps({"pid": 1, "run_id": "r-current"}))
    fresh = folder / "intents" / "fresh.json"
    fresh.write_text("{}")

    report = execution_files_prune(retention_days=30)

    assert report.as_dict() == {"intents": 1, "results": 1, "run_records": 2}
    assert not any(path.exists() for path in done_files.values())
    assert all(path.exists() for path in [*claimed_files.values(), *working_files.values()])
    assert unread.exists() and current.exists() and fresh.exists()
    # The sweep can still tell that the claimed order reached an engine run.
    assert engines.intent_handed_over("paper", claimed_files["intent"]) == "r-claimed"


def test_retention_zero_prunes_nothing(project: Any) -> None:
    files = order_files(TradeOrderFactory(project=project, status=OrderStatus.FILLED), "r-done")
    assert execution_files_prune(retention_days=0).as_dict() == {"intents": 0, "results": 0, "run_records": 0}
    assert all(path.exists() for path in files.values())


def events(order: TradeOrder, *statuses: str, start: int = 0) -> str:
    lines = []
    for n, status in enumerate(statuses, start=start):
        event = {"tag": order.client_order_id, "order_id": order.pk, "run_id": "r-1", "event_id": n}
        event["status"] = status
        if status == "Filled":
            event |= {"filled": 1, "fill_price": 10.5}
        lines.append(json.dumps(event) + "\n")
    return "".join(lines)


def test_rotation_ingests_to_the_end_then_archives_and_the_next_file_starts_clean(project: Any) -> None:
    first, second = TradeOrderFactory(project=project), TradeOrderFactory(project=project)
    path = engines.engine_dir("paper") / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(events(first, "Submitted", "Filled"))

    archive = events_file_rotate(mode="paper")

    first.refresh_from_db()
    assert first.status == OrderStatus.FILLED and not path.exists()
    assert archive.read_text() == events(first, "Submitted", "Filled")
    path.write_text(events(second, "Submitted"))
    report = ingest_execution_events()
    assert report.applied == 1 and report.resets == 0
    assert EventFileCursor.objects.get(path=str(path.resolve())).resets == 0


def test_rotation_refuses_a_running_engine_and_an_incomplete_last_line(project: Any) -> None:
    order = TradeOrderFactory(project=project)
    engines.engine_start("paper")
    with pytest.raises(engines.EngineError, match="running"):
        events_file_rotate(mode="paper")
    engines.stop_engine("paper")
    path = engines.engine_dir("paper") / "events.jsonl"
    with open(path, "a") as handle:
        handle.write(events(order, "Submitted") + '{"tag": "half')
    with pytest.raises(engines.EngineError, match="incomplete"):
        events_file_rotate(mode="paper")
    assert path.exists()


def test_var_clean_refuses_a_running_engine_and_unread_events(
    settings: Any, tmp_path: Path, project: Any
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    engines.engine_start("paper")
    assert any("paper engine is running" in reason for reason in var_clean_blockers())
    engines.stop_engine("paper")
    path = engines.engine_dir("paper") / "events.jsonl"
    with open(path, "a") as handle:
        handle.write(events(TradeOrderFactory(project=project), "Submitted"))
    with pytest.raises(CommandError, match="not ingested"):
        call_command("var_clean")
    assert settings.VAR_DIR.exists()
    ingest_execution_events()
    call_command("var_clean")
    assert not settings.VAR_DIR.exists()


def test_make_clean_runs_the_checked_clean() -> None:
    root = Path(__file__).resolve().parent.parent.parent
    result = subprocess.run(
        ["make", "-n", "clean"], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    assert "manage.py var_clean" in result.stdout and "rm -rf var" in result.stdout
