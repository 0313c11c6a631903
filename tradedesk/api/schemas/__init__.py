"""API shapes, one module per resource (orders, positions, projects, halts), their fields and the error."""

from orders.doors import MAX_DB_ID  # the bound of IdIn, QueryId and PathId; endpoints import it from here
from tradedesk.api.schemas.errors import ERRORS, ErrorOut
from tradedesk.api.schemas.fields import Dec, IdIn, NumberIn, PathId, QueryId, StrictIn
from tradedesk.api.schemas.halts import EngineHaltIn, EngineHaltOut
from tradedesk.api.schemas.orders import (
    EventOut,
    FillOut,
    ModifyIn,
    OrderDetailOut,
    OrderIn,
    OrderListOut,
    OrderOut,
    OrderParamsIn,
    ResolveIn,
    UpdateClearIn,
)
from tradedesk.api.schemas.positions import CloseIn, CloseOut, LiquidateIn, PositionOut, PositionTotalsOut
from tradedesk.api.schemas.projects import ProjectOut, TradingStateIn

__all__ = [
    "ERRORS",
    "MAX_DB_ID",
    "CloseIn",
    "CloseOut",
    "Dec",
    "EngineHaltIn",
    "EngineHaltOut",
    "ErrorOut",
    "EventOut",
    "FillOut",
    "IdIn",
    "LiquidateIn",
    "ModifyIn",
    "NumberIn",
    "OrderDetailOut",
    "OrderIn",
    "OrderListOut",
    "OrderOut",
    "OrderParamsIn",
    "PathId",
    "PositionOut",
    "PositionTotalsOut",
    "ProjectOut",
    "QueryId",
    "ResolveIn",
    "StrictIn",
    "TradingStateIn",
    "UpdateClearIn",
]
