"""The algorithm module imported against the fake, an engine folder, and the intents and events tests use."""

from __future__ import annotations

import importlib
import json
import sys
import types
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.execution.lean.fake_lean.algorithm import fake_algorithm_imports
from tests.execution.lean.fake_lean.enums import OrderStatus
from tests.execution.lean.fake_lean.members import FakeSymbol

MODULE = "execution.lean.manual_order_execution"
# The algorithm's companion package (execution/lean/tradedesk_algorithm/), imported with it.
PARTS = "execution.lean.tradedesk_algorithm"


def forget_algorithm() -> None:
    """Drop the algorithm and its companions from sys.modules, so the next import binds the fake in place now."""
    for name in [name for name in sys.modules if name in (MODULE, PARTS) or name.startswith(PARTS + ".")]:
        del sys.modules[name]


def companion(name: str) -> types.ModuleType:
    """A companion module of the algorithm (after the fake AlgorithmImports is in place)."""
    return importlib.import_module(f"{PARTS}.{name}")


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The algorithm module, imported against the fake AlgorithmImports."""
    monkeypatch.setitem(sys.modules, "AlgorithmImports", fake_algorithm_imports())
    forget_algorithm()
    module = importlib.import_module(MODULE)
    yield module
    forget_algorithm()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "engines" / "paper"
    (folder / "intents").mkdir(parents=True)
    return folder


def write_intent(workdir: Path, **fields: Any) -> Path:
    intent = {
        "order_intent_id": "oi_3_1_1764000000123",
        "symbol": "AAPL",
        "quantity": -10,
        "order_type": "MKT",
        "limit_price": None,
        "weight": None,
        "project_id": 3,
        "mode": "paper",
        "created_at": "2026-11-25T19:00:00Z",
        **fields,
    }
    path = workdir / "intents" / f"{intent['order_intent_id']}.json"
    path.write_text(json.dumps(intent), encoding="utf-8")
    return path


def make_algorithm(lean: types.ModuleType, workdir: Path, intent: Path | None, run_id: str = "r-1") -> Any:
    algo = lean.ManualOrderExecution()
    algo.parameters = {
        "intent-file": str(intent) if intent else "",
        "events-file": str(workdir / "events.jsonl"),
        "run-id": run_id,
    }
    return algo


def read_lines(workdir: Path) -> list[dict[str, Any]]:
    raw = (workdir / "events.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.split(b"\n")[:-1]]


def order_event(**fields: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "order_id": 1,
        "id": 1,
        "symbol": FakeSymbol("AAPL"),
        "utc_time": datetime(2026, 11, 25, 19, 0, 1, 250000),  # LEAN's UtcTime: naive, UTC
        "status": OrderStatus.SUBMITTED,
        "order_fee": SimpleNamespace(value=SimpleNamespace(amount=0.0, currency="USD")),
        "fill_price": 0.0,
        "fill_quantity": 0.0,
        "message": "",
    }
    base.update(fields)
    return SimpleNamespace(**base)
