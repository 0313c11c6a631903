"""An engine started without an order (`engine start`) trades a symbol it does not hold: the LEAN path.

The algorithm runs against the recorder of fake_lean with exactly the parameters tradedesk's config
gives a run started without an intent; the command files tradedesk writes are then read the way LEAN's
FileCommandHandler reads them (tests/fixtures/lean/command-handling-excerpt.json, QuantConnect/Lean@24863901:
`command*.json` sorted by name, Common/Commands/FileCommandHandler.cs:32,47-52; each deleted once read,
:112-113) and run as LEAN runs them: AddSecurityCommand.Run calls algorithm.AddSecurity
(Common/Commands/AddSecurityCommand.cs:77-80); tradedesk's order command, whose $type no assembly defines, runs
as a CallbackCommand through the class the algorithm registered (tests/fixtures/lean/time-in-force-excerpt.json),
which subscribes a symbol LEAN does not hold yet: a SubmitOrderRequest for it would answer MissingSecurity
(Algorithm/QCAlgorithm.Trading.cs:1059-1063).
"""

from __future__ import annotations

import fnmatch
import json
import types
from pathlib import Path
from typing import Any

import pytest

from execution.contract import order_command
from execution.engine import process
from execution.engine.config import build_execution_config
from execution.engine.state import engine_dir
from execution.engine.subscribe import SUBSCRIBE_PREFIX
from tests.execution.lean.fake_lean import Resolution, lean, write_intent

__all__ = ["lean"]  # the fixture, imported for this module's tests

EXCERPT = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "command-handling-excerpt.json"
LEAN_RESOLUTIONS = {"Second": Resolution.SECOND, "Minute": Resolution.MINUTE}


def excerpt_text(path: str) -> str:
    """The cited lines of one LEAN file, joined."""
    data = json.loads(EXCERPT.read_text(encoding="utf-8"))
    assert data["_source"]["commit"] == "24863901deffa9ec7985e21ef8fbdb0258efb9e4"
    return "\n".join(line for item in data["excerpts"] if item["path"] == path for line in item["text"])


def lean_reads_command_files(folder: Path, algo: Any) -> list[tuple[str, str]]:
    """LEAN's FileCommandHandler over `folder` against the recorder: (command type, outcome) in read order."""
    handler = excerpt_text("Common/Commands/FileCommandHandler.cs")
    assert '"command*.json"' in handler and "OrderBy(file => file.Name)" in handler
    assert "File.Delete(commandFilePath);" in handler
    assert "OrderResponse.MissingSecurity(request)" in excerpt_text("Algorithm/QCAlgorithm.Trading.cs")
    assert "algorithm.AddSecurity(SecurityType, Symbol, Resolution" in excerpt_text(
        "Common/Commands/AddSecurityCommand.cs"
    )
    outcomes = []
    for path in sorted(
        (p for p in folder.iterdir() if fnmatch.fnmatchcase(p.name, "command*.json")), key=lambda p: p.name
    ):
        command = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
        kind = command["$type"].split(",")[0].rsplit(".", 1)[-1]
        if kind == "AddSecurityCommand":
            assert command["SecurityType"] == "Equity" and command["Market"] == "usa"
            algo.add_equity(command["Symbol"], LEAN_RESOLUTIONS[command.get("Resolution", "Minute")])
            outcomes.append((kind, "added " + command["Symbol"]))
        else:
            # No assembly defines tradedesk's $type: FileCommandHandler makes it a CallbackCommand of that Type,
            # which the class the algorithm registered runs (tests/fixtures/lean/time-in-force-excerpt.json).
            success = algo.run_callback_command(command)
            outcomes.append((kind, "submitted" if success else f"refused ({success})"))
    return outcomes


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The mode's engine counts as running (run r-start) without a process: the recorder is the engine."""
    info: dict[str, Any] = {"run_id": "r-start", "pid": 1}
    monkeypatch.setattr(process, "running_engine", lambda mode: info)
    return info


def start_without_an_order(lean: types.ModuleType) -> Any:
    """The algorithm of a run `engine start` launches: the config tradedesk writes with no intent."""
    folder = engine_dir("paper")
    (folder / "intents").mkdir(parents=True, exist_ok=True)
    config = json.loads(build_execution_config(mode="paper", workdir=folder, run_id="r-start").read_text())
    assert config["parameters"]["intent-file"] == ""
    algo = lean.ManualOrderExecution()
    algo.parameters = dict(config["parameters"])
    algo.initialize()
    algo.on_warmup_finished()
    return algo


def test_engine_start_then_an_order_in_a_symbol_it_does_not_hold_is_placed(
    lean: types.ModuleType, running: dict[str, Any]
) -> None:
    algo = start_without_an_order(lean)
    assert algo.orders_placed() == [] and not algo.securities
    folder = engine_dir("paper")

    # The dispatch of an order for NVDA to the running engine: its intent, then the hand-over. The
    # algorithm's 5-second intents scan has not run yet (the race every command-handed order runs).
    intent = write_intent(folder, order_intent_id="oi_3_9_1", symbol="NVDA", quantity=4)
    command = order_command(
        command_id=process.command_id_for("oi_3_9_1"), symbol="NVDA", quantity=4, order_type="MKT",
        limit_price=None, tag="oi_3_9_1",
    )  # fmt: skip
    handover = process.hand_over(mode="paper", intent_path=intent, command=command)
    assert handover.kind == "command" and handover.run_id == "r-start"

    names = sorted(p.name for p in folder.iterdir() if fnmatch.fnmatchcase(p.name, "command*.json"))
    assert names == [f"{SUBSCRIBE_PREFIX}NVDA.json", Path(handover.command_path).name]
    assert lean_reads_command_files(folder, algo) == [
        ("AddSecurityCommand", "added NVDA"),
        ("TradedeskOrderCommand", "submitted"),
    ]
    assert ("add_equity", "NVDA", Resolution.SECOND) in algo.calls
    assert algo.orders_placed() == [("market_order", "NVDA", 4, True, "oi_3_9_1")]


def test_a_second_order_in_the_symbol_writes_no_second_subscribe(running: dict[str, Any]) -> None:
    folder = engine_dir("paper")
    for number in (1, 2):
        command = order_command(
            command_id=process.command_id_for(f"oi_3_9_{number}"), symbol="NVDA", quantity=1,
            order_type="MKT", limit_price=None, tag=f"oi_3_9_{number}",
        )  # fmt: skip
        process.hand_over(mode="paper", intent_path=folder / "intents" / "x.json", command=command)
        (folder / f"{SUBSCRIBE_PREFIX}NVDA.json").unlink(missing_ok=True)  # "LEAN" read the first
    assert not (folder / f"{SUBSCRIBE_PREFIX}NVDA.json").exists()
    # A new run (another run id) gets its own subscribe.
    running["run_id"] = "r-next"
    process.hand_over(mode="paper", intent_path=folder / "intents" / "x.json", command=command)
    assert (folder / f"{SUBSCRIBE_PREFIX}NVDA.json").exists()


def test_a_run_started_without_an_order_scans_the_intents_folder(lean: types.ModuleType) -> None:
    algo = start_without_an_order(lean)
    assert ("get_parameter", "intents-folder") in algo.calls
    write_intent(engine_dir("paper"), order_intent_id="oi_3_9_5", symbol="AMD")
    algo.schedule.every(lean.INTENT_SCAN_EVERY)()
    assert [c[1] for c in algo.calls if c[0] == "add_equity"] == ["AMD"]


@pytest.mark.parametrize(
    "uuid_text",
    [
        "00000000-0000-0000-0000-000000000000",
        "0a000000-0000-0000-0000-000000000000",
        "ffffffff-0000-0000-0000-000000000000",
    ],
)
def test_the_subscribe_file_sorts_before_any_command_file_of_an_order(uuid_text: str) -> None:
    subscribe, order = f"{SUBSCRIBE_PREFIX}ZZZZ.json", f"command-{uuid_text}.json"
    assert sorted([order, subscribe]) == [subscribe, order]  # ordinal (LEAN with invariant globalization)
    # And in a linguistic comparison, where punctuation sorts before digits and letters.
    assert subscribe.startswith("command-0-") and not order.startswith("command-0-")
