"""The archive tables of the engine events and the audit log (issue 22's retention by month).

New, empty tables: created in the migration's transaction on PostgreSQL and SQLite alike (nothing to build
concurrently). `manage.py history_archive` moves whole months into them (orders/services/archive.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0017_history_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ArchivedAuditLog',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('at', models.DateTimeField()),
                ('username', models.CharField(blank=True, default='', max_length=150)),
                ('action', models.CharField(max_length=32)),
                ('source_address', models.GenericIPAddressField(blank=True, null=True)),
                ('channel', models.CharField(blank=True, default='', max_length=16)),
                ('detail', models.JSONField(blank=True, default=dict)),
                ('order', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='orders.tradeorder')),
                ('project', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='orders.project')),
                ('user', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'archived audit log entry',
                'verbose_name_plural': 'archived audit log entries',
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['at', 'id'], name='archived_audit_at')],
            },
        ),
        migrations.CreateModel(
            name='ArchivedExecutionEvent',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('event_key', models.CharField(max_length=64)),
                ('tag', models.CharField(max_length=200)),
                ('status', models.CharField(max_length=64)),
                ('run_id', models.CharField(blank=True, default='', max_length=100)),
                ('engine_order_id', models.BigIntegerField(blank=True, null=True)),
                ('engine_event_id', models.BigIntegerField(blank=True, null=True)),
                ('event_time', models.DateTimeField(blank=True, null=True)),
                ('filled', models.DecimalField(blank=True, decimal_places=6, max_digits=20, null=True)),
                ('fill_price', models.DecimalField(blank=True, decimal_places=10, max_digits=24, null=True)),
                ('fee', models.DecimalField(blank=True, decimal_places=8, max_digits=24, null=True)),
                ('message', models.TextField(blank=True, default='')),
                ('payload', models.JSONField()),
                ('source', models.CharField(blank=True, default='', max_length=500)),
                ('outcome', models.CharField(choices=[('applied', 'Applied'), ('ignored', 'Recorded, status not applied'), ('unmatched', 'No order with this tag')], max_length=10)),
                ('reason', models.CharField(blank=True, default='', max_length=200)),
                ('received_at', models.DateTimeField()),
                ('order', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orders.tradeorder')),
            ],
            options={
                'verbose_name': 'archived engine event',
                'verbose_name_plural': 'archived engine events',
                'ordering': ['event_time', 'id'],
                'indexes': [models.Index(fields=['order', 'event_time', 'id'], name='archived_event_timeline'), models.Index(fields=['received_at', 'id'], name='archived_event_received')],
                'constraints': [models.UniqueConstraint(fields=('event_key',), name='archived_event_key_unique'), models.CheckConstraint(condition=models.Q(('outcome', 'unmatched'), _negated=True), name='archived_event_has_order')],
            },
        ),
    ]
