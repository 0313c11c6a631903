from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('execution', '0002_bad_event_lines_and_line_cap'),
    ]

    operations = [
        migrations.CreateModel(
            name='HoldingsPart',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mode', models.CharField(max_length=8)),
                ('run_id', models.CharField(blank=True, default='', max_length=100)),
                ('snapshot', models.CharField(max_length=100)),
                ('part', models.PositiveIntegerField()),
                ('parts', models.PositiveIntegerField()),
                ('line', models.JSONField(help_text="the part's line as the engine wrote it")),
                ('received_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['mode', 'run_id', 'snapshot', 'part'],
                'constraints': [models.UniqueConstraint(fields=('mode', 'run_id', 'snapshot', 'part'), name='holdings_part_unique')],
            },
        ),
    ]
