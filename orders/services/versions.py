"""The per-project change counters the page's poll compares (orders.models.ProjectVersion).

Every change of an order row bumps its project's counter: a model save (create, save) through the post_save
receiver below; the set-based writers (ledger batches, flags, released claims) explicitly, once per batch and
last (after their order and position locks). A dispatch claim and the record of a command handed to a
running engine change nothing a screen shows and do not bump (orders/services/dispatch.py): the engine's
answer, a refusal or a failure a moment later does. One INSERT ... ON CONFLICT DO UPDATE per project, never the
project row's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from orders.models import Project, ProjectVersion, TradeOrder

_TABLE = ProjectVersion._meta.db_table
_UPSERT_TAIL = (
    "ON CONFLICT (project_id) DO UPDATE SET "
    f"orders = {_TABLE}.orders + 1, positions = {_TABLE}.positions + excluded.positions, "
    "changed_at = excluded.changed_at"
)


# Sent after the commit of every bump, with the project ids (execution/push.py publishes them to the pages'
# streams). The push's own bookkeeping (order stage times) never bumps, so a push never echoes itself.
project_versions_changed = Signal()


def _announce(project_ids: Iterable[int]) -> None:
    ids = sorted(set(project_ids))
    if ids:
        transaction.on_commit(
            lambda: project_versions_changed.send(sender=ProjectVersion, project_ids=ids), robust=True
        )


def project_versions_bump(project_ids: Iterable[int], *, positions: Iterable[int] = ()) -> None:
    """Orders changed in these projects (and positions in `positions`): +1 each, in project id order."""
    moved = set(positions)
    ids = sorted(set(project_ids) | moved)
    if not ids:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_TABLE} (project_id, orders, positions, changed_at) VALUES (%s, 1, %s, %s) "
            + _UPSERT_TAIL,
            [(pk, int(pk in moved), now) for pk in ids],
        )
    _announce(ids)


def project_versions_bump_for_orders(order_ids: Iterable[int]) -> None:
    """The projects of these orders changed (one statement, whatever the number of orders)."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (project_id, orders, positions, changed_at) "
            f"SELECT DISTINCT project_id, 1, 0, %s FROM {TradeOrder._meta.db_table} "
            f"WHERE id IN ({placeholders}) ORDER BY project_id " + _UPSERT_TAIL + " RETURNING project_id",
            [timezone.now(), *ids],
        )
        projects = [row[0] for row in cursor.fetchall()]
    _announce(projects)


def project_versions_bump_for_mode(mode: str) -> None:
    """Something every project of `mode` shows changed (the header's reconciliation flags)."""
    project_versions_bump(Project.objects.filter(mode=mode).values_list("pk", flat=True))


def order_saved(sender: Any, instance: TradeOrder, raw: bool = False, **kwargs: Any) -> None:
    """post_save of TradeOrder: its project's orders counter (fixtures loaded raw are left alone)."""
    if not raw:
        project_versions_bump([instance.project_id])
