"""The engine-wide halt of a mode (orders.models.EngineHalt): staff set and lift it; order checks read it."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.errors import Forbidden, OrderValidationError
from orders.models import EngineHalt, Mode, Project
from orders.services.audit import Actor, audit_record
from orders.services.versions import project_versions_bump

HALT_PERMISSION = "orders.halt_engine"
REASON_MAX = EngineHalt._meta.get_field("reason").max_length or 500
_TABLE = EngineHalt._meta.db_table


def engine_halt_permitted(*, user: Any) -> bool:
    """Whether this user may halt or resume a mode's engine (staff, or the orders.halt_engine permission)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff or user.has_perm(HALT_PERMISSION))


def engine_halt_get(*, mode: str) -> EngineHalt:
    """The mode's halt as stored, without a lock (an unsaved running row when the mode was never halted)."""
    return EngineHalt.objects.filter(mode=mode).select_related("changed_by").first() or EngineHalt(mode=mode)


def _ensure_row(mode: str) -> None:
    """Insert the mode's row when missing, so there is always a row to lock (never overwrites one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (mode, halted, reason, changed_by_name) VALUES (%s, %s, '', '') "
            "ON CONFLICT (mode) DO NOTHING",
            [mode, False],
        )


def engine_halt_locked(*, mode: str, for_update: bool = False) -> EngineHalt:
    """The mode's halt row, locked in the caller's transaction: FOR SHARE for an order check (checks never
    wait on each other), FOR UPDATE for a change (it waits for every check in flight and blocks new ones)."""
    if for_update:
        row = EngineHalt.objects.select_for_update().filter(mode=mode).first()
    else:
        # Django has no FOR SHARE; SQLite (the demo) has no row locks and serialises writers anyway.
        lock = " FOR SHARE" if connection.features.has_select_for_update else ""
        row = next(
            iter(EngineHalt.objects.raw(f"SELECT * FROM {_TABLE} WHERE mode = %s{lock}", [mode])), None
        )
    if row is None:
        _ensure_row(mode)
        return engine_halt_locked(mode=mode, for_update=for_update)
    return row


def engine_halt_set(*, mode: str, halted: bool, reason: str = "", actor: Actor | None) -> EngineHalt:
    """Halt (or resume) every project of a mode: staff only, with a reason to halt; audited.

    Under the row's FOR UPDATE lock: it commits after every order check in flight, and every later check
    sees it (orders.services.risk.check_new_order reads the row FOR SHARE)."""
    user = actor.user if actor is not None else None
    if not engine_halt_permitted(user=user):
        raise Forbidden(
            "halting or resuming an engine needs staff status or the orders.halt_engine permission"
        )
    if mode not in Mode.values:
        raise OrderValidationError("mode must be paper or live", errors={"mode": "must be paper or live"})
    reason = (reason or "").strip()
    if halted and not reason:
        raise OrderValidationError("say why the engine is halted", errors={"reason": "required"})
    if len(reason) > REASON_MAX:
        raise OrderValidationError(
            f"the reason is longer than {REASON_MAX} characters",
            errors={"reason": f"at most {REASON_MAX} characters"},
        )
    with transaction.atomic():
        row = engine_halt_locked(mode=mode, for_update=True)
        was_halted = row.halted
        row.halted = halted
        row.reason = reason
        row.changed_by = user
        row.changed_by_name = getattr(user, "username", "") or ""
        row.changed_at = timezone.now()
        row.save()
        audit_record(
            actor=actor,
            action="engine_halt" if halted else "engine_resume",
            detail={"mode": mode, "halted": halted, "was_halted": was_halted, "reason": reason},
        )
        # Every page of the mode shows the halt on its next poll (header, positions' Buy / Sell). After the
        # commit: a version row's insert checks its project key, which an order check in flight holds FOR
        # UPDATE while it waits for this row (a deadlock if done here).
        transaction.on_commit(lambda: _pages_refresh(mode))
    return row


def _pages_refresh(mode: str) -> None:
    """Bump the change counters of every project of the mode, so their pages re-render status and positions."""
    ids = list(Project.objects.filter(mode=mode).values_list("pk", flat=True))
    project_versions_bump(ids, positions=ids)
