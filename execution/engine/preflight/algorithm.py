"""The algorithm LEAN loads (config `algorithm-location`) and its companion package beside it: every module the
algorithm imports from it is there, and every file compiles in this Python (LEAN's version, 3.11)."""

from __future__ import annotations

import ast
from pathlib import Path

from execution.engine.config import ALGORITHM_FILE
from execution.engine.preflight.base import Check

# The companion package's name: LEAN puts the algorithm's folder first on sys.path, so the algorithm imports it
# as this top-level package (execution/lean/manual_order_execution.py cites LEAN's Loader.cs and JobQueue.cs).
COMPANION = "tradedesk_algorithm"
FIX = (
    "deploy the whole execution/lean/ folder of this tradedesk version (the algorithm file and its "
    "tradedesk_algorithm/ package) unchanged: LEAN loads the file named by algorithm-location and imports the "
    "package from beside it"
)


def companion_imports(tree: ast.Module) -> set[str]:
    """Modules of the companion package the algorithm imports (`from tradedesk_algorithm import x`, relative
    or not)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == COMPANION and node.level in (0, 1):
            names.update(alias.name for alias in node.names)
    return names


def _compile_error(path: Path) -> str | None:
    """Why `path` does not compile (None when it does)."""
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError) as exc:
        return f"{path}: {type(exc).__name__}: {exc}"
    return None


def check_algorithm_file(path: Path = ALGORITHM_FILE) -> Check:
    """The algorithm file and its companion package are complete and compile."""
    name = "algorithm file"
    if not path.is_file():
        return Check(name, False, f"{path} not found", FIX)
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        return Check(name, False, f"{path}: {type(exc).__name__}: {exc}", FIX)
    package = path.parent / COMPANION
    wanted = companion_imports(tree)
    missing = sorted(module for module in wanted if not (package / f"{module}.py").is_file())
    if wanted and not (package / "__init__.py").is_file():
        missing.insert(0, "__init__")
    if missing:
        return Check(name, False, f"{package} lacks {', '.join(f'{m}.py' for m in missing)}", FIX)
    files = [path, *sorted(package.glob("*.py"))] if wanted else [path]
    for file in files:
        error = _compile_error(file)
        if error:
            return Check(name, False, error[:300], FIX)
    modules = f" and {len(files) - 1} modules of {COMPANION}/" if wanted else ""
    return Check(name, True, f"{path}{modules}")
