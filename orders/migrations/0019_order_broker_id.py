"""The broker's order id on each order (issue 21): working orders reloaded by a new engine run re-home to
their desk order by it (with symbol, side and quantity). The column has a database default, so adding it
rewrites no rows; its partial index is built CONCURRENTLY on PostgreSQL (orders/migration_operations.py)."""

from django.db import migrations, models

from orders.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0018_history_archive"),
    ]

    operations = [
        migrations.AddField(
            model_name="tradeorder",
            name="broker_order_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="tradeorder",
            index=models.Index(
                condition=models.Q(
                    models.Q(("broker_order_id", ""), _negated=True),
                    ("status__in", ["CANCEL_PENDING", "NEW", "PARTIALLY_FILLED", "SUBMITTED"]),
                ),
                fields=["mode", "broker_order_id"],
                name="order_broker_id",
            ),
        ),
    ]
