"""execution/contract/times.py: the contract's one time format, and the LEAN algorithm's copy held to it."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from execution.contract.times import contract_time
from tests.execution.lean.fake_lean import MODULE, companion, fake_algorithm_imports, forget_algorithm

MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no fraction: still three digits
    datetime(2026, 7, 1, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-4))),  # another zone
    datetime(2026, 1, 2, 3, 4, 5, 1_000),  # naive: UTC
]


def test_the_format() -> None:
    assert [contract_time(moment) for moment in MOMENTS] == [
        "2026-01-02T03:04:05.678Z",
        "2026-01-02T03:04:05.000Z",
        "2026-07-02T03:59:59.999Z",
        "2026-01-02T03:04:05.001Z",
    ]
    now = contract_time()
    assert now.endswith("Z") and len(now) == len("2026-01-02T03:04:05.678Z")


@pytest.fixture
def lean() -> object:
    saved = sys.modules.get("AlgorithmImports")
    sys.modules["AlgorithmImports"] = fake_algorithm_imports()
    forget_algorithm()
    yield importlib.import_module(MODULE)
    forget_algorithm()
    if saved is None:
        sys.modules.pop("AlgorithmImports", None)
    else:
        sys.modules["AlgorithmImports"] = saved


def test_the_lean_algorithm_writes_the_same_times(lean: object) -> None:
    assert [companion("lines").utc_iso(moment) for moment in MOMENTS] == [
        contract_time(moment) for moment in MOMENTS
    ]  # type: ignore[attr-defined]
