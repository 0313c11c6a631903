"""The append-only audit log of manual actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orders.models import (
    AuditLog,
    Project,
    TradeOrder,
)


@dataclass(frozen=True)
class Actor:
    """Who did something, from where (for the audit log)."""

    user: Any = None
    source_address: str | None = None
    channel: str = ""


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    project: Project | None = None,
    order: TradeOrder | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry to the audit log."""
    actor = actor or Actor()
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=user,
        username=getattr(user, "username", "") or "",
        action=action,
        source_address=actor.source_address or None,
        channel=actor.channel,
        project=project,
        order=order,
        detail=detail or {},
    )
