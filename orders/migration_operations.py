"""Index operations that build and drop CONCURRENTLY on PostgreSQL (no write lock on a live orders table)
and run as Django's plain AddIndex / RemoveIndex elsewhere (the embedded SQLite default has no CONCURRENTLY).

Migrations using them are `atomic = False`: PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY in a
transaction. A concurrent build that fails (a deadlock, a cancel) leaves an INVALID index behind: drop it
(`DROP INDEX CONCURRENTLY name`) and migrate again."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


def _postgres(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


class AddIndexConcurrentlyOnPostgres(AddIndex):
    """AddIndexConcurrently on PostgreSQL, AddIndex elsewhere; the same migration state either way."""

    atomic = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Build the index (concurrently on PostgreSQL)."""
        if _postgres(schema_editor):
            concurrent = AddIndexConcurrently(self.model_name, self.index)
            concurrent.database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Drop the index (concurrently on PostgreSQL)."""
        if _postgres(schema_editor):
            concurrent = AddIndexConcurrently(self.model_name, self.index)
            concurrent.database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndex):
    """RemoveIndexConcurrently on PostgreSQL, RemoveIndex elsewhere."""

    atomic = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Drop the index (concurrently on PostgreSQL)."""
        if _postgres(schema_editor):
            concurrent = RemoveIndexConcurrently(self.model_name, self.name)
            concurrent.database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Build the index again (concurrently on PostgreSQL)."""
        if _postgres(schema_editor):
            concurrent = RemoveIndexConcurrently(self.model_name, self.name)
            concurrent.database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)
