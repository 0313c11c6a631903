# The time a pending update was asked for (set exactly while update_pending), backfilled from updated_at.

from django.db import migrations, models
from django.db.models import F, Q


def backfill(apps, schema_editor):
    TradeOrder = apps.get_model("orders", "TradeOrder")
    TradeOrder.objects.filter(update_pending=True).update(update_requested_at=F("updated_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0013_ingest_indexes_dropped'),
    ]

    operations = [
        migrations.AddField(
            model_name='tradeorder',
            name='update_requested_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=Q(update_pending=False, update_requested_at__isnull=True) | Q(update_pending=True, update_requested_at__isnull=False), name='order_update_pending_has_its_request_time'),
        ),
    ]
