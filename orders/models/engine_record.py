"""The engine record of an order: `params["manual_execution"]`, where and how the engine adapter handed the
order over (run, hand-over kind, command, paths, times). Read through `engine_record` (TradeOrder.engine_record),
merged through `engine_record_merged` (orders.services.dispatch.trade_order_record_dispatch writes it), and
matched in queries through `handed_to_run`; nothing else names the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

ENGINE_RECORD_KEY = "manual_execution"  # the API's orders show params as stored: the name stays
RUN_ID_LOOKUP = f"params__{ENGINE_RECORD_KEY}__run_id"  # the run the order was handed to, for querysets


@dataclass(frozen=True)
class EngineRecord:
    """An order's engine record (empty until its first hand-over)."""

    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sent(self) -> bool:
        """The order was handed to an engine (a record exists)."""
        return bool(self.data)

    @property
    def run_id(self) -> str:
        """The engine run the order was handed to ("" when none)."""
        return str(self.data.get("run_id") or "")

    @property
    def handover(self) -> str:
        """How it was handed over: "start" (a new engine's intent), "command" (to a running engine)."""
        return str(self.data.get("handover") or "")

    @property
    def handed_over_at(self) -> str:
        """When (ISO-8601), "" when not recorded."""
        return str(self.data.get("handed_over_at") or "")


def engine_record(params: Mapping[str, Any] | None) -> EngineRecord:
    """The engine record in an order's params (an empty one when there is none or it is not an object)."""
    data = (params or {}).get(ENGINE_RECORD_KEY)
    return EngineRecord(dict(data) if isinstance(data, Mapping) else {})


def engine_record_merged(params: Mapping[str, Any] | None, update: Mapping[str, Any]) -> dict[str, Any]:
    """Params with `update` merged into their engine record (later hand-overs keep the earlier keys)."""
    merged = dict(params or {})
    merged[ENGINE_RECORD_KEY] = {**engine_record(params).data, **update}
    return merged


def handed_to_run(run_id: str) -> Q:
    """Orders handed to this engine run."""
    return Q(**{RUN_ID_LOOKUP: run_id})
