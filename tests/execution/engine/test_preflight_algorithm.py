"""lean_preflight's algorithm check: the file LEAN loads and its companion package, complete and compiling."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from execution.engine.config import ALGORITHM_FILE
from execution.engine.preflight import check_algorithm_file
from execution.engine.preflight.algorithm import COMPANION, companion_imports


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    """A copy of this version's execution/lean/ folder, as an operator deploys it: the algorithm file's path."""
    folder = tmp_path / "lean"
    shutil.copytree(ALGORITHM_FILE.parent, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / ALGORITHM_FILE.name


def test_the_shipped_algorithm_and_its_whole_package_pass() -> None:
    check = check_algorithm_file()
    assert check.ok, check.line()
    modules = len(list((ALGORITHM_FILE.parent / COMPANION).glob("*.py")))
    assert f"and {modules} modules of {COMPANION}/" in check.detail


def test_the_algorithm_imports_every_module_of_the_package_it_ships() -> None:
    tree = ast.parse(ALGORITHM_FILE.read_text())
    shipped = {path.stem for path in (ALGORITHM_FILE.parent / COMPANION).glob("*.py")} - {"__init__"}
    assert companion_imports(tree) == shipped


def test_the_file_copied_without_its_package_fails_with_the_fix(tmp_path: Path) -> None:
    alone = tmp_path / ALGORITHM_FILE.name
    shutil.copy(ALGORITHM_FILE, alone)
    check = check_algorithm_file(alone)
    assert not check.ok
    assert "lacks __init__.py" in check.detail and "placement.py" in check.detail
    assert "tradedesk_algorithm/ package" in check.fix


def test_a_missing_module_is_named(deployed: Path) -> None:
    (deployed.parent / COMPANION / "brackets.py").unlink()
    check = check_algorithm_file(deployed)
    assert not check.ok and check.detail.endswith("lacks brackets.py")


def test_a_module_that_does_not_compile_fails_with_its_error(deployed: Path) -> None:
    module = deployed.parent / COMPANION / "lines.py"
    module.write_text(module.read_text() + "\ndef broken(:\n")
    check = check_algorithm_file(deployed)
    assert not check.ok and "lines.py: SyntaxError" in check.detail


def test_a_missing_or_broken_algorithm_file_fails(deployed: Path) -> None:
    assert "not found" in check_algorithm_file(deployed.with_name("nope.py")).detail
    deployed.write_text("class ManualOrderExecution(:\n")
    assert "SyntaxError" in check_algorithm_file(deployed).detail
