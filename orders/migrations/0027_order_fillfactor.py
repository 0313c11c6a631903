"""The orders table's pages keep a fifth free (fillfactor 80; issue 22, cold catch-up, session 9).

An ingest batch rewrites each order it touches once per batch; a new row version that fits on its page, with
no indexed column changed (a fill that leaves the status as it was), is a HOT update: no new entry in any of
the table's indexes. With full pages (fillfactor 100) the new version often goes to another page and every
index gets an entry. Only pages written from now on keep the space (a storage parameter: a catalog change
under a brief lock, no rewrite); `VACUUM FULL` or a dump and restore applies it to the old ones. SQLite has no
such parameter: nothing to do there.
"""

from django.db import migrations


def _fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE orders_tradeorder SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0026_order_types_trail_moc_lit"),
    ]

    operations = [migrations.RunPython(_fillfactor(80), _fillfactor(100))]
