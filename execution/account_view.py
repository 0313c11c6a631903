"""What a user may see of a mode's IB account: the engine's account snapshot, labelled as the IB login's
(shared by every project of the mode), only to those who may see the mode (LIVE: only with trade_live)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from execution.engine.state import MODES
from execution.ingest.account import AccountSnapshot, account_snapshot
from orders import selectors
from orders.errors import Forbidden, OrderValidationError
from orders.models import Mode


@dataclass(frozen=True)
class AccountView:
    """A mode's account as the page, the API and /metrics show it."""

    mode: str
    account_id: str  # the IB login's account (IB_<MODE>_ACCOUNT), "" when not configured (the simulator)
    engine: str  # "simulator" | "lean"
    snapshot: AccountSnapshot | None
    stale: bool  # no snapshot, or older than TRADEDESK_PRICE_STALE_SECONDS


def account_may_see(*, user: Any, mode: str) -> bool:
    """Staff, or a member of a project of the mode; a LIVE account also needs orders.trade_live."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return False
    if mode == Mode.LIVE and not user.has_perm("orders.trade_live"):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return selectors.projects_for_user(user=user).filter(mode=mode).exists()


def account_view(*, mode: str) -> AccountView:
    """The mode's account, whoever asks (callers check account_may_see first)."""
    snapshot = account_snapshot(mode)
    return AccountView(
        mode=mode,
        account_id=(settings.IB_LOGINS.get(mode) or {}).get("account", ""),
        engine=settings.TRADEDESK_ENGINE,
        snapshot=snapshot,
        stale=snapshot is None or snapshot.is_stale(now=timezone.now()),
    )


def account_for_user(*, user: Any, mode: str) -> AccountView:
    """The mode's account for a user who may see it; 422 for an unknown mode, 403 for one they may not."""
    if mode not in MODES:
        raise OrderValidationError(f"mode must be one of {', '.join(MODES)}", errors={"mode": "unknown mode"})
    if not account_may_see(user=user, mode=mode):
        raise Forbidden(f"you may not see the {mode} account")
    return account_view(mode=mode)
