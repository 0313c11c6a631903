"""Brackets (issue 24): an entry's take-profit and stop-loss children (parent, bracket_role), the group's state on
the entry, and the HELD status of a child before its entry fills. Every new column has a database default, so
adding it rewrites no rows; the children's partial index is built CONCURRENTLY on PostgreSQL."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from orders.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('orders', '0022_update_refused_message_db_default'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='tradeorder',
            name='order_status_valid',
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='bracket_message',
            field=models.TextField(blank=True, db_default='', default=''),
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='bracket_overfilled',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='bracket_role',
            field=models.CharField(blank=True, choices=[('', 'None'), ('ENTRY', 'Bracket entry'), ('TAKE_PROFIT', 'Take profit'), ('STOP_LOSS', 'Stop loss')], db_default='', default='', max_length=12),
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='bracket_state',
            field=models.CharField(blank=True, choices=[('', 'None'), ('OPEN', 'Open'), ('CLOSED', 'Closed')], db_default='', default='', max_length=8),
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='parent',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='orders.tradeorder'),
        ),
        migrations.AlterField(
            model_name='tradeorder',
            name='status',
            field=models.CharField(choices=[('HELD', 'Held for the entry'), ('NEW', 'New'), ('FAILED', 'Failed'), ('SUBMITTED', 'Submitted'), ('PARTIALLY_FILLED', 'Partially filled'), ('CANCEL_PENDING', 'Cancel pending'), ('REJECTED', 'Rejected'), ('CANCELED', 'Canceled'), ('FILLED', 'Filled')], default='NEW', max_length=16),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='tradeorder',
            index=models.Index(condition=models.Q(('parent__isnull', False)), fields=['parent'], name='order_bracket_children'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['HELD', 'NEW', 'FAILED', 'SUBMITTED', 'PARTIALLY_FILLED', 'CANCEL_PENDING', 'REJECTED', 'CANCELED', 'FILLED'])), name='order_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('bracket_role__in', ['', 'ENTRY']), ('parent__isnull', True)), models.Q(('bracket_role__in', ['TAKE_PROFIT', 'STOP_LOSS']), ('parent__isnull', False)), _connector='OR'), name='order_bracket_parent_matches_role'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('bracket_role', 'TAKE_PROFIT'), _negated=True), ('order_type', 'LMT'), _connector='OR'), name='order_bracket_take_profit_is_limit'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('bracket_role', 'STOP_LOSS'), _negated=True), ('order_type', 'STP'), _connector='OR'), name='order_bracket_stop_loss_is_stop'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('bracket_role', 'ENTRY'), ('bracket_state__in', ['OPEN', 'CLOSED'])), models.Q(models.Q(('bracket_role', 'ENTRY'), _negated=True), ('bracket_overfilled', False), ('bracket_state', '')), _connector='OR'), name='order_bracket_state_on_entry'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'HELD'), _negated=True), ('parent__isnull', False), _connector='OR'), name='order_held_only_children'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.UniqueConstraint(condition=models.Q(('parent__isnull', False)), fields=('parent', 'bracket_role'), name='order_bracket_one_child_per_role'),
        ),
    ]
