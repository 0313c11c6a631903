"""The history indexes migrate on the embedded SQLite default too (CONCURRENTLY is PostgreSQL's), both ways;
on PostgreSQL they are built valid (orders/migration_operations.py, migration 0015)."""

from __future__ import annotations

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
