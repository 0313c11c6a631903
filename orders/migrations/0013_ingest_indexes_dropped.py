"""Indexes every ingest batch wrote and no query reads: dropped (issue 13, round 3).

- `event_tag` on ExecutionEvent.tag: no query looks an event up by its tag (the admin's search is a substring
  match, which a b-tree cannot serve); each inserted event wrote it.
- `orders_tradeorder_client_order_id_..._like` (varchar_pattern_ops, built by `unique=True`): nothing matches
  a client order id with LIKE. The uniqueness stays: the same unique index, renamed to the Meta
  UniqueConstraint's name `order_client_order_id_unique` (a rename, no rebuild).
- `orders_tradeorder_project_id_...` on TradeOrder.project: `order_project_created` (project_id, created_at)
  starts with the same column. Each order update that changes the status (not HOT) wrote both.

Safe on a populated table: only DROP INDEX and a constraint rename (catalog changes, each under a brief lock,
no table or index scan, no rebuild). On SQLite the unique column stays as created (same guarantee).
"""

from django.db import migrations, models


def _forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = "orders_tradeorder"
    for column, suffix in (("client_order_id", "_like"), ("project_id", "")):
        index = schema_editor._create_index_name(table, [column], suffix=suffix)
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")
    unique = schema_editor._constraint_names(
        apps.get_model("orders", "TradeOrder"), ["client_order_id"], unique=True, primary_key=False
    )
    for name in unique:
        if name != "order_client_order_id_unique":
            schema_editor.execute(
                f"ALTER TABLE {table} RENAME CONSTRAINT {schema_editor.quote_name(name)} "
                "TO order_client_order_id_unique"
            )


def _backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = "orders_tradeorder"
    schema_editor.execute(
        f"ALTER TABLE {table} RENAME CONSTRAINT order_client_order_id_unique TO "
        + schema_editor.quote_name(
            schema_editor._create_index_name(table, ["client_order_id"], suffix="_key")
        )
    )
    like = schema_editor._create_index_name(table, ["client_order_id"], suffix="_like")
    schema_editor.execute(
        f"CREATE INDEX {schema_editor.quote_name(like)} ON {table} (client_order_id varchar_pattern_ops)"
    )
    project = schema_editor._create_index_name(table, ["project_id"], suffix="")
    schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name(project)} ON {table} (project_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_time_zone_choice"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="executionevent", name="event_tag"),
        migrations.SeparateDatabaseAndState(
            # The state's AlterField would also drop and re-add the foreign key (a validating scan): only
            # the index goes.
            state_operations=[
                migrations.AlterField(
                    model_name="tradeorder",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="orders",
                        to="orders.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="tradeorder",
                    name="client_order_id",
                    field=models.CharField(max_length=64),
                ),
                migrations.AddConstraint(
                    model_name="tradeorder",
                    constraint=models.UniqueConstraint(
                        fields=("client_order_id",), name="order_client_order_id_unique"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_forwards, _backwards)],
        ),
    ]
