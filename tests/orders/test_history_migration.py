"""The history indexes migrate on the embedded SQLite default too (CONCURRENTLY is PostgreSQL's), both ways;
on PostgreSQL they are built valid (orders/migration_operations.py, migration 0015)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import ConnectionHandler

NEW = {"order_created", "order_project_recent", "order_project_working", "order_status_recent"}
NEW |= {"order_symbol_recent", "order_engine_id", "event_order_timeline", "event_unmatched_recent"}
REPLACED = {"order_project_created", "order_status", "orders_tradeorder_created_at_7591d507"}
REPLACED |= {"orders_executionevent_order_id_b6bb290b"}


def sqlite_indexes(sqlite: Any) -> set[str]:
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {row[0] for row in cursor.fetchall()}


def test_the_history_indexes_migrate_on_sqlite_forwards_and_back(tmp_path: Any) -> None:
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "x.db"}}
    )
    sqlite = handler["default"]
    try:
        executor = MigrationExecutor(sqlite)
        executor.migrate([("orders", "0015_history_indexes")])
        assert sqlite_indexes(sqlite) >= NEW and not REPLACED & sqlite_indexes(sqlite)
        executor.loader.build_graph()
        executor.migrate([("orders", "0014_order_update_requested_at")])
        assert sqlite_indexes(sqlite) >= REPLACED and not NEW & sqlite_indexes(sqlite)
    finally:
        sqlite.close()


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
