"""The events-file lines, the file writer and the order the events tests share."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orders.models import TradeOrder
from tests.factories import TradeOrderFactory


def line(**event: Any) -> str:
    """One events-file line."""
    return json.dumps(event) + "\n"


def write(path: Path, text: str | bytes, mode: str = "w") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        with open(path, mode + "b") as handle:
            handle.write(text)
    else:
        with open(path, mode, encoding="utf-8", newline="") as handle:
            handle.write(text)
    return path


def ev(
    tag: str, status: str, event_id: int, *, run: str = "r-1", order_id: int = 7, **extra: Any
) -> dict[str, Any]:
    return {
        "tag": tag,
        "status": status,
        "order_id": order_id,
        "event_id": event_id,
        "run_id": run,
        "time": f"2026-11-25T14:30:{event_id:02d}Z",
        **extra,
    }


@pytest.fixture
def order() -> TradeOrder:
    return TradeOrderFactory(client_order_id="oi_9_1_1", symbol="AAPL", side="BUY", quantity=Decimal(10))
