# The `default` PAPER project, with no members: an order without project_id and without a user (the original
# plan's `create_trade_order(payload)`) goes there. Members see it only once a desk lead adds them, so a user
# without a project is still told to ask for access; nothing creates a project at request time.

from django.db import migrations

DEFAULT_PROJECT_NAME = "default"  # orders.services.projects.DEFAULT_PROJECT_NAME (a migration keeps its own copy)


def default_project_create(apps, schema_editor):
    Project = apps.get_model("orders", "Project")
    Project.objects.get_or_create(name=DEFAULT_PROJECT_NAME, defaults={"mode": "paper"})


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0014_order_update_requested_at'),
    ]

    operations = [
        migrations.RunPython(default_project_create, migrations.RunPython.noop),
    ]
