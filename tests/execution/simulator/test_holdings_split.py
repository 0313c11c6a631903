"""Both engines split a holdings snapshot longer than the line cap by one rule: parts within the cap that
put back together give the snapshot's holdings."""

from __future__ import annotations

import importlib
import json
import random
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from execution import simulator
from execution.engine.config import simulator_config
from tests.execution.lean.fake_lean import (
    MODULE,
    FakeSymbol,
    companion,
    fake_algorithm_imports,
    forget_algorithm,
    make_algorithm,
    read_lines,
)

Split = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The LEAN algorithm module, imported against the fake AlgorithmImports."""
    monkeypatch.setitem(sys.modules, "AlgorithmImports", fake_algorithm_imports())
    forget_algorithm()
    yield importlib.import_module(MODULE)
    forget_algorithm()


def positions(count: int, seed: int = 3) -> list[tuple[str, float, float]]:
    """`count` positions with symbols and numbers of varied lengths (signed quantities, some fractional)."""
    rng = random.Random(seed)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    symbols = sorted({"".join(rng.choices(letters, k=rng.randint(1, 5))) + f"{i}" for i in range(count)})
    return [
        (symbol, rng.choice([1, -1]) * rng.choice([3, 250, 12345.5, 0.125]), round(rng.uniform(1, 5000), 4))
        for symbol in symbols
    ]


def snapshot_line(count: int) -> dict[str, Any]:
    """A holdings line as the engines write it, with `count` holdings."""
    return {
        "type": "holdings",
        "run_id": "r-20261125T190000-1a2b",
        "time": "2026-11-25T19:01:00.000Z",
        "holdings": [{"symbol": s, "quantity": q, "avg_price": p} for s, q, p in positions(count)],
        "source": "lean",
    }


def check_parts(line: dict[str, Any], parts: list[dict[str, Any]], cap: int) -> None:
    """Each part fits the cap with its newline, parts are numbered 1..n of one snapshot, and put back
    together they are the line."""
    for part in parts:
        assert len(json.dumps(part, ensure_ascii=False).encode("utf-8") + b"\n") <= cap
    if len(parts) == 1:
        assert parts == [line]  # a snapshot that fits stays exactly one line, without part keys
        return
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["parts"] for p in parts} == {len(parts)}
    assert len({p["snapshot"] for p in parts}) == 1
    for part in parts:
        assert {k: v for k, v in part.items() if k not in ("snapshot", "part", "parts", "holdings")} == {
            k: v for k, v in line.items() if k != "holdings"
        }
        assert part["holdings"]
    assert [item for part in parts for item in part["holdings"]] == line["holdings"]


# (holdings, cap in bytes, parts expected: 1 for a single line, None for "more than one")
SPLIT_TABLE = [
    pytest.param(0, 1024, 1, id="empty-account"),
    pytest.param(3, 1024, 1, id="fits"),
    pytest.param(40, 1024, None, id="just-over"),
    pytest.param(500, 1024, None, id="many-symbols-small-cap"),
    pytest.param(500, 8192, None, id="many-symbols-larger-cap"),
    pytest.param(2000, 1 << 20, 1, id="default-cap"),
]


@pytest.mark.parametrize(("count", "cap", "expected"), SPLIT_TABLE)
def test_both_engines_split_a_snapshot_into_the_same_parts_under_the_cap(
    lean: ModuleType, count: int, cap: int, expected: int | None
) -> None:
    line = snapshot_line(count)
    by_engine = {
        name: split(line, snapshot=7, max_line_bytes=cap)
        for name, split in (
            ("simulator", simulator.split_holdings_line),
            ("lean", companion("lines").split_holdings_line),
        )
    }
    for parts in by_engine.values():
        check_parts(line, parts, cap)
        assert len(parts) == expected if expected is not None else len(parts) > 1
    assert by_engine["simulator"] == by_engine["lean"]


def test_a_line_exactly_at_the_cap_stays_one_line(lean: ModuleType) -> None:
    line = snapshot_line(10)
    size = len(simulator.encode_line(line))
    for split in (simulator.split_holdings_line, companion("lines").split_holdings_line):
        assert split(line, snapshot=1, max_line_bytes=size) == [line]
        assert len(split(line, snapshot=1, max_line_bytes=size - 1)) == 2


def test_a_holding_that_cannot_fit_any_line_is_refused(lean: ModuleType) -> None:
    line = snapshot_line(1)
    line["holdings"][0]["symbol"] = "X" * 2000
    for split in (simulator.split_holdings_line, companion("lines").split_holdings_line):
        with pytest.raises(ValueError, match="does not fit"):
            split(line, snapshot=1, max_line_bytes=1024)


@pytest.mark.parametrize(
    ("value", "cap"), [("2048", 2048), (None, 1 << 20), ("", 1 << 20), ("abc", 1 << 20), ("100", 1 << 20)]
)
def test_the_line_cap_parameter_falls_back_to_the_contracts_default(
    lean: ModuleType, value: str | None, cap: int
) -> None:
    assert simulator.line_cap(value) == cap
    assert companion("writer").line_cap(value) == cap


def test_the_engines_get_the_ingests_line_cap_as_a_launch_parameter(settings: Any, tmp_path: Path) -> None:
    settings.TRADEDESK_EVENTS_MAX_LINE_BYTES = 4096
    config = simulator_config(workdir=tmp_path, run_id="r-c", intent_path=None)
    assert config["parameters"]["max-line-bytes"] == "4096"
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert simulator.SimulatorConfig.load(tmp_path / "config.json").max_line_bytes == 4096


def test_the_simulator_writes_a_large_account_in_parts_under_its_cap(tmp_path: Path) -> None:
    config = simulator.SimulatorConfig(
        workdir=tmp_path,
        events_file=tmp_path / "events.jsonl",
        intent_file=None,
        run_id="r-s",
        max_line_bytes=2048,
    )
    engine = simulator.Simulator(config)
    held = positions(300)
    engine.account.positions = {
        s: {"quantity": Decimal(str(q)), "avg_price": Decimal(str(p))} for s, q, p in held
    }
    engine.holdings_line()
    engine.holdings_line()

    raw = config.events_file.read_bytes().split(b"\n")[:-1]
    assert all(len(line) + 1 <= 2048 for line in raw)
    lines = [json.loads(line) for line in raw]
    first = [line for line in lines if line["snapshot"] == 1]
    assert len(first) > 1 and [line["snapshot"] for line in lines[len(first) :]] == [2] * len(first)
    assert [(h["symbol"], h["quantity"]) for line in first for h in line["holdings"]] == [
        (s, q) for s, q, _ in held
    ]


def test_the_lean_algorithm_writes_a_large_portfolio_in_parts_under_its_cap(
    lean: ModuleType, tmp_path: Path
) -> None:
    workdir = tmp_path / "engines" / "paper"
    (workdir / "intents").mkdir(parents=True)
    algo = make_algorithm(lean, workdir, None, run_id="r-l")
    algo.parameters["max-line-bytes"] = "2048"
    algo.initialize()
    held = positions(300)
    algo.portfolio.holdings = {
        FakeSymbol(s): SimpleNamespace(quantity=q, average_price=p) for s, q, p in held
    }
    algo.on_warmup_finished()
    algo.schedule.every(timedelta(minutes=1))()

    raw = (workdir / "events.jsonl").read_bytes().split(b"\n")[:-1]
    assert all(len(line) + 1 <= 2048 for line in raw)
    holdings = [line for line in read_lines(workdir) if line.get("type") == "holdings"]
    first = [line for line in holdings if line["snapshot"] == 1]
    second = [line for line in holdings if line["snapshot"] == 2]
    assert len(first) > 1 and len(second) == len(first) and len(holdings) == 2 * len(first)
    assert {line["source"] for line in first} == {"broker"} and {line["source"] for line in second} == {
        "lean"
    }
    assert [(h["symbol"], h["quantity"]) for line in first for h in line["holdings"]] == [
        (s, q) for s, q, _ in held
    ]
