"""API shapes of a mode's engine-wide halt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictBool

from tradedesk.api.schemas.fields import StrictIn


class EngineHaltIn(StrictIn):
    """Staff: halt (with a reason) or resume every project of a mode."""

    halted: StrictBool
    reason: str = Field("", max_length=500, description="required to halt: every trader of the mode sees it")


class EngineHaltOut(Schema):
    """A mode's engine-wide halt: while halted, only orders that reduce a position (Close, Liquidate) pass."""

    mode: str
    halted: bool
    reason: str
    changed_by: str = Field(..., description="username of the staff member who halted or resumed it last")
    changed_at: datetime | None

    @staticmethod
    def resolve_changed_by(obj: Any) -> str:
        """The username recorded with the change."""
        return str(obj.changed_by_name)
