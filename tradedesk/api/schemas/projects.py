"""API shapes of a project and its trading state."""

from __future__ import annotations

from ninja import Schema

from tradedesk.api.schemas.fields import StrictIn


class ProjectOut(Schema):
    """A project the user is a member of."""

    id: int
    name: str
    mode: str
    trading_state: str


class TradingStateIn(StrictIn):
    """Set a project's trading state (HALTED also cancels working orders)."""

    trading_state: str
