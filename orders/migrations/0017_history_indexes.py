"""Indexes for a long history (issue 22): every order list is an index walk newest first (docs/benchmarks.md,
"History at scale"). Built CONCURRENTLY on PostgreSQL, so a live desk keeps trading while they build; plain
CREATE / DROP INDEX on SQLite (orders/migration_operations.py). New indexes first, then the ones they replace:
created_at's own index (order_created adds the id), order_project_created (order_project_recent adds it) and
order_status (order_status_recent adds created_at and the id), the events' order_id index
(event_order_timeline leads with it)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

from orders.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres

# What `db_index=True` named the field indexes the composite ones replace (Django's name: table, column and
# their hash, the same on every backend).
FIELD_INDEXES = (
    ("orders_tradeorder_created_at_7591d507", "orders_tradeorder", "created_at"),
    ("orders_executionevent_order_id_b6bb290b", "orders_executionevent", "order_id"),
)


def _concurrently(schema_editor: Any) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop_field_indexes(apps: Any, schema_editor: Any) -> None:
    for name, _table, _column in FIELD_INDEXES:
        schema_editor.execute(f"DROP INDEX {_concurrently(schema_editor)}IF EXISTS {schema_editor.quote_name(name)}")


def create_field_indexes(apps: Any, schema_editor: Any) -> None:
    quote = schema_editor.quote_name
    for name, table, column in FIELD_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0016_colour_choice"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(fields=["-created_at", "-id"], name="order_created"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(fields=["project", "-created_at", "-id"], name="order_project_recent"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(
                condition=models.Q(("status__in", ["CANCEL_PENDING", "NEW", "PARTIALLY_FILLED", "SUBMITTED"])),
                fields=["project", "-created_at", "-id"],
                name="order_project_working",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(
                fields=["status", "-created_at", "-id"], include=("project",), name="order_status_recent"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(
                fields=["symbol", "-created_at", "-id"], include=("project",), name="order_symbol_recent"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(
                condition=models.Q(("ib_order_id__isnull", False)), fields=["ib_order_id"], name="order_engine_id"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="executionevent",
            index=models.Index(fields=["order", "event_time", "id"], name="event_order_timeline"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="executionevent",
            index=models.Index(
                condition=models.Q(("outcome", "unmatched")),
                fields=["event_time", "id"],
                name="event_unmatched_recent",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="tradeorder", name="order_project_created"),
        RemoveIndexConcurrentlyOnPostgres(model_name="tradeorder", name="order_status"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="tradeorder",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="executionevent",
                    name="order",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="orders.tradeorder",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_field_indexes, create_field_indexes)],
        ),
    ]
