"""The algorithm imported as LEAN imports it: the top-level module of its file name, its folder first on sys.path.

LEAN at QuantConnect/Lean 24863901deffa9ec7985e21ef8fbdb0258efb9e4: Queues/JobQueue.cs:276-279 hands the
algorithm's folder to PythonInitializer.AddAlgorithmLocationPath, which keeps it first on sys.path
(Common/Python/PythonInitializer.cs:101-176); AlgorithmFactory/Loader.cs:166-173 takes the module name from the file
name and AlgorithmPythonWrapper.cs:102-119 imports it with Py.Import, then instantiates each QCAlgorithm subclass
whose qualified name starts with that module name.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

from tests.execution.lean.fake_lean import lean as lean

REPO_ROOT = Path(__file__).resolve().parents[3]
LEAN_STYLE = """
import importlib, json, sys
sys.path.insert(0, {folder!r})
sys.path.append({root!r})
from tests.execution.lean.fake_lean import fake_algorithm_imports
sys.modules["AlgorithmImports"] = fake_algorithm_imports()
module = importlib.import_module("manual_order_execution")
QCAlgorithm = sys.modules["AlgorithmImports"].QCAlgorithm
algorithms = [
    name for name in dir(module)
    if repr(getattr(module, name)).split("'")[1:2] and repr(getattr(module, name)).split("'")[1].startswith("manual_order_execution")
    and isinstance(getattr(module, name), type) and issubclass(getattr(module, name), QCAlgorithm)
]
algo = module.ManualOrderExecution()
algo.parameters = {{"events-file": {events!r}, "run-id": "r-lean"}}
algo.initialize()
print(json.dumps({{
    "package": module.__package__,
    "names": sorted(name for name in dir(module) if not name.startswith("__")),
    "algorithms": algorithms,
    "companions": sorted((name, m.__file__) for name, m in sys.modules.items() if name.startswith("tradedesk_algorithm")),
    "packaged": sorted(name for name in sys.modules if name.startswith("execution")),
}}))
"""


def run_as_lean(tmp_path: Path) -> dict:
    code = LEAN_STYLE.format(
        folder=str(REPO_ROOT / "execution" / "lean"),
        root=str(REPO_ROOT),
        events=str(tmp_path / "events.jsonl"),
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_lean_imports_the_algorithm_and_its_companions_from_its_folder(tmp_path: Path) -> None:
    found = run_as_lean(tmp_path)
    assert found["package"] == ""
    assert found["algorithms"] == ["ManualOrderExecution"]
    companions = dict(found["companions"])
    folder = REPO_ROOT / "execution" / "lean" / "tradedesk_algorithm"
    assert "tradedesk_algorithm.commands" in companions and "tradedesk_algorithm.brackets" in companions
    assert all(Path(path).parent == folder for path in companions.values())
    assert (
        found["packaged"] == []
    )  # nothing of tradedesk's package tree: the same files, by their top-level names
    started = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[0])
    assert (started["type"], started["status"], started["run_id"]) == ("engine", "started", "r-lean")


def test_both_imports_bind_the_same_names(lean: types.ModuleType, tmp_path: Path) -> None:
    """The two import lists of manual_order_execution.py name the same names (mypy reads only the first)."""
    packaged = sorted(name for name in dir(lean) if not name.startswith("__"))
    assert run_as_lean(tmp_path)["names"] == packaged
