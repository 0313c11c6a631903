"""The access counter (orders.models.AccessVersion): moved, in the changing transaction, by everything that may
end someone's access to a project's page, and announced after the commit, so an open push stream re-checks
its session, user and membership when (and only when) it moved or its keep-alive comes."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal

from orders.models import AccessVersion

_TABLE = AccessVersion._meta.db_table

# Sent after the commit of every bump (execution/push.py publishes it to the pages' streams).
access_changed = Signal()


def access_version_bump() -> None:
    """Someone's access may have ended (or begun): +1, announced when the transaction commits."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (id, version) VALUES (1, 1) "
            f"ON CONFLICT (id) DO UPDATE SET version = {_TABLE}.version + 1"
        )
    transaction.on_commit(lambda: access_changed.send(sender=AccessVersion), robust=True)


def access_version() -> int:
    """The access counter now (0 before anything moved it)."""
    found = AccessVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return int(found or 0)


def access_version_on_change(sender: Any, **kwargs: Any) -> None:
    """Signal receiver: a user saved or deleted, a project deleted, a membership added, removed or cleared."""
    if kwargs.get("action", "post_").startswith("post_"):
        access_version_bump()
