"""execution/contract/folder.py: the engine folder's names, its one rule for the mode of an events file, and
the LEAN algorithm's copies of the names held to the contract's."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from execution.contract import folder
from execution.contract.folder import EngineFolder, events_file_mode
from execution.engine import process as engines
from tests.execution.lean.fake_lean import MODULE, companion, fake_algorithm_imports, forget_algorithm


def test_paths_of_an_engine_folder(tmp_path: Path) -> None:
    engine = EngineFolder.of(tmp_path, "paper")
    assert engine.path == tmp_path / "engines" / "paper"
    assert engine.mode == "paper"
    assert engine.events == engine.path / "events.jsonl"
    assert engine.intent("oi_1") == engine.path / "intents" / "oi_1.json"
    assert engine.prices == engine.path / "prices.json"
    assert engine.pid == engine.path / "engine.pid"
    assert engine.run_parameters("r-1") == engine.path / "runs" / "r-1.parameters.json"
    assert engine.command("c1") == engine.path / "command-c1.json"
    assert engine.result("c1") == engine.path / "result-command-c1.json"
    # Neither a staged nor a retracted command matches LEAN's command*.json.
    assert not engine.command_staged("c1").name.startswith("command")
    assert not engine.command_retracted("c1").name.startswith("command")


def test_engine_folder_is_the_settings_root(execution_root: Path) -> None:
    assert engines.engine_folder("live") == EngineFolder.of(execution_root, "live")
    assert engines.engine_dir("live") == engines.engine_folder("live").path


@pytest.mark.parametrize(
    ("relative", "mode"),
    [
        ("engines/paper/events.jsonl", "paper"),
        ("engines/live/events.jsonl", "live"),
        ("engines/live/events.jsonl.1", "live"),  # a rotated sibling is still that engine's
        ("engines/other/events.jsonl", None),  # no such mode
        ("engines/paper/events-archive/events-1.jsonl", None),
        ("elsewhere/engines/paper/events.jsonl", None),  # named like an engine's, but not under the root
    ],
)
def test_events_file_mode(tmp_path: Path, relative: str, mode: str | None) -> None:
    root = tmp_path / "root"
    (root / "engines").mkdir(parents=True)
    path = (root if not relative.startswith("elsewhere") else tmp_path) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    assert events_file_mode(path, root=root) == mode


def test_events_file_mode_of_a_symlinked_folder_is_the_folder_it_names(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "engines" / "paper").mkdir(parents=True)
    os.symlink(tmp_path / "outside", root / "engines" / "live")
    (tmp_path / "outside").mkdir()
    assert events_file_mode(root / "engines" / "paper" / "events.jsonl", root=root) == "paper"
    assert events_file_mode(root / "engines" / "live" / "events.jsonl", root=root) is None


def test_the_lean_algorithm_names_the_files_as_the_contract_does() -> None:
    saved = sys.modules.get("AlgorithmImports")
    sys.modules["AlgorithmImports"] = fake_algorithm_imports()
    forget_algorithm()
    try:
        importlib.import_module(MODULE)
        assert (
            companion("writer").EVENTS_FILE,
            companion("snapshots").PRICES_FILE,
            companion("snapshots").ACCOUNT_FILE,
        ) == (
            folder.EVENTS_FILE,
            folder.PRICES_FILE,
            folder.ACCOUNT_SNAPSHOT_FILE,
        )
    finally:
        forget_algorithm()
        if saved is None:
            sys.modules.pop("AlgorithmImports", None)
        else:
            sys.modules["AlgorithmImports"] = saved
