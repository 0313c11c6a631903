"""The IB account of a mode (`/api/trade/account?mode=`): cash, buying power, net liquidation, margin used and
unrealised P&L from the engine's account snapshot; a LIVE account only for users who may see LIVE."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from execution.selectors import AccountView, account_for_user
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import ERRORS, Dec


class CashOut(Schema):
    """Cash in one currency."""

    currency: str
    amount: Dec


class AccountOut(Schema):
    """The mode's IB account (shared by every project of the mode). The numbers are null until the engine
    has written a snapshot; `stale` when it is older than TRADEDESK_PRICE_STALE_SECONDS or missing."""

    mode: str
    account_id: str
    engine: str
    time: str | None
    stale: bool
    currency: str | None
    cash: list[CashOut]
    net_liquidation: Dec | None
    buying_power: Dec | None
    total_margin_used: Dec | None
    unrealized_pnl: Dec | None


router = Router(auth=api_auth, tags=["account"])


def account_out(view: AccountView) -> dict[str, Any]:
    """The API's shape of an account view."""
    snapshot = view.snapshot
    return {
        "mode": view.mode,
        "account_id": view.account_id,
        "engine": view.engine,
        "stale": view.stale,
        "time": snapshot.time.isoformat().replace("+00:00", "Z") if snapshot else None,
        "currency": snapshot.currency if snapshot else None,
        "cash": list(snapshot.cash) if snapshot else [],
        "net_liquidation": snapshot.net_liquidation if snapshot else None,
        "buying_power": snapshot.buying_power if snapshot else None,
        "total_margin_used": snapshot.total_margin_used if snapshot else None,
        "unrealized_pnl": snapshot.unrealized_pnl if snapshot else None,
    }


@router.get("/account", response={200: AccountOut, **ERRORS})
def account_get(request: HttpRequest, mode: Annotated[str, Query(max_length=16)]) -> dict[str, Any]:
    """The mode's IB account as its engine last reported it (403 for a mode the user may not see)."""
    return account_out(account_for_user(user=request.user, mode=mode))
