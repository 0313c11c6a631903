# Time in force (DAY, GTC, GTD with its date) and outside regular hours of an order (issue 24).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0024_access_version'),
    ]

    operations = [
        migrations.AddField(
            model_name='tradeorder',
            name='good_till_date',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='outside_rth',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name='tradeorder',
            name='time_in_force',
            field=models.CharField(choices=[('DAY', 'Day'), ('GTC', 'Good till canceled'), ('GTD', 'Good till date')], db_default='DAY', default='DAY', max_length=3),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(('time_in_force__in', ['DAY', 'GTC', 'GTD'])), name='order_time_in_force_valid'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('good_till_date__isnull', False), ('time_in_force', 'GTD')), models.Q(models.Q(('time_in_force', 'GTD'), _negated=True), ('good_till_date__isnull', True)), _connector='OR'), name='order_good_till_date_only_for_gtd'),
        ),
        migrations.AddConstraint(
            model_name='tradeorder',
            constraint=models.CheckConstraint(condition=models.Q(('outside_rth', False), ('order_type__in', ['LIT', 'LMT', 'STP', 'STP LMT', 'TRAIL']), _connector='OR'), name='order_outside_rth_types'),
        ),
    ]
