"""The history indexes migrate on the embedded SQLite default too (CONCURRENTLY is PostgreSQL's), both ways;
on PostgreSQL they are built valid (orders/migration_operations.py, migration 0015)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

NEW = {"order_created", "order_project_recent", "order_project_working", "order_status_recent"}
NEW |= {"order_symbol_recent", "order_engine_id", "event_order_timeline", "event_unmatched_recent"}
REPLACED = {"order_project_created", "order_status", "orders_tradeorder_created_at_7591d507"}
REPLACED |= {"orders_executionevent_order_id_b6bb290b"}


def sqlite_indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def migrate(path: Path, *target: str) -> None:
    """manage.py migrate on the embedded default (SQLite), as `make run` does, in a process of its own."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "CELERY_BROKER_URL": "filesystem://"}
    env.pop("CACHE_URL", None)
    env["TRADEDESK_AUTH_CACHE_SECONDS"] = "0"
    env["TRADEDESK_VAR_DIR"] = str(path.parent / "var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", *target], cwd=ROOT, env=env, check=True, capture_output=True
    )


def test_the_history_indexes_migrate_on_sqlite_forwards_and_back(tmp_path: Path) -> None:
    path = tmp_path / "tradedesk.sqlite3"
    migrate(path)
    assert sqlite_indexes(path) >= NEW and not REPLACED & sqlite_indexes(path)
    migrate(path, "orders", "0016_colour_choice")
    assert sqlite_indexes(path) >= REPLACED and not NEW & sqlite_indexes(path)


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's concurrent builds")
def test_the_history_indexes_are_built_valid_on_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = ANY(%s)",
            [sorted(NEW | REPLACED)],
        )
        found = dict(cursor.fetchall())
    assert found == dict.fromkeys(NEW, True)


ARCHIVE_TABLES = {"orders_archivedexecutionevent", "orders_archivedauditlog"}

# Run on the migrated SQLite file by manage.py shell: an order's events and an audit entry from January, the
# archive before February, then the same events again (the portable paths of orders/services/archive.py and
# of the ledger's archive probe).
SQLITE_ARCHIVE = """
import json
from datetime import UTC, datetime
from decimal import Decimal
from orders.models import *
from orders.services import Actor, audit_record
from orders.services.archive import history_archive
from execution.ingest.events import apply_execution_events
project = Project.objects.create(name="archive")
order = TradeOrder.objects.create(project=project, client_order_id="oi_archive_1", symbol="AAPL", side="BUY",
    quantity=Decimal(10), order_type="MKT", mode="paper")
events = [{"tag": "oi_archive_1", "order_id": 7, "event_id": n, "run_id": "r", "status": status,
    "filled": filled, "fill_price": 100, "time": f"2026-01-15T10:00:0{n}Z"}
    for n, (status, filled) in enumerate([("Submitted", 0), ("PartiallyFilled", 4), ("Filled", 6)], start=1)]
first = apply_execution_events(events, source="t").applied
audit_record(actor=Actor(), action="order.create", project=project, order=order)
old = datetime(2026, 1, 15, tzinfo=UTC)
ExecutionEvent.objects.update(received_at=old)
AuditLog.objects.update(at=old)
report = history_archive(before=datetime(2026, 2, 1, tzinfo=UTC))
again = apply_execution_events(events, source="t")
order.refresh_from_db()
print(json.dumps({"first": first, "events": report.events, "audit": report.audit, "applied": again.applied,
    "duplicates": again.duplicates, "hot": ExecutionEvent.objects.count(), "fills": TradeFill.objects.count(),
    "filled": str(order.filled_quantity), "status": order.status,
    "timeline": len(list(__import__("orders.selectors").selectors.order_events(order=order)))}))
"""


def test_the_archive_migrates_and_archives_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "tradedesk.sqlite3"
    migrate(path)
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables >= ARCHIVE_TABLES
    assert {"archived_event_timeline", "archived_event_received", "archived_audit_at"} <= sqlite_indexes(path)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "CELERY_BROKER_URL": "filesystem://"}
    env.pop("CACHE_URL", None)
    env["TRADEDESK_AUTH_CACHE_SECONDS"] = "0"
    env["TRADEDESK_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SQLITE_ARCHIVE],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"first": 3, "events": 3, "audit": 1, "applied": 0, "duplicates": 3, "hot": 0, "fills": 2,
                      "filled": "10.000000", "status": "FILLED", "timeline": 3}  # fmt: skip
    migrate(path, "orders", "0017_history_indexes")
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not tables & ARCHIVE_TABLES
