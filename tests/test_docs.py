"""The docs name real things: tests named in docs/reliability.md exist, files the README links exist."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_named_in_reliability_md_exists() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text()
    checked = 0
    current: Path | None = None  # a `::name` with no file refers to the last file named above it
    for row in text.splitlines():
        if not row.startswith("|"):
            continue
        for ref in re.findall(r"`([^`]*(?:tests/[^`]+|::[^`]+))`", row):
            path_part, _, name = ref.partition("::")
            if path_part:
                current = ROOT / path_part
                assert current.exists(), ref
            assert current is not None, ref
            if name:
                names = _test_functions(current)
                assert fnmatch.filter(names, name), f"{ref} not found in {current}"
                checked += 1
    assert checked >= 40


def test_every_file_the_readme_links_exists() -> None:
    """The README's screenshots (both colour conventions among them) and docs links point at real files."""
    text = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\(((?:docs|bench|deploy)/[^)#\s]+)", text))
    assert {"docs/live-trade.png", "docs/live-trade-red-up.png", "docs/live-trade-zh.png"} <= linked
    missing = sorted(path for path in linked if not (ROOT / path).exists())
    assert not missing, missing
    assert "`TRADEDESK_COLOUR_CONVENTION`" in text.split("**Times and numbers.**", 1)[1].split("\n\n", 1)[0]
