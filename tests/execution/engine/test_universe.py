"""The simulator's universe as the ticket reads it: the configured file, re-read when it changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from execution.engine.universe import universe_symbols


def test_the_default_universe_is_the_simulators_file(settings: Any) -> None:
    symbols = universe_symbols()
    assert {"AAPL", "MSFT", "BRK.B"} <= symbols
    assert not any(symbol.startswith("#") for symbol in symbols)


def test_a_replaced_file_is_read_again(settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "universe.txt"
    path.write_text("# mine\nabc\nDEF  # a comment\n", encoding="utf-8")
    settings.TRADEDESK_SIM_UNIVERSE_FILE = str(path)
    assert universe_symbols() == frozenset({"ABC", "DEF"})
    path.write_text("XYZ\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even within the clock's resolution
    assert universe_symbols() == frozenset({"XYZ"})


def test_a_missing_or_empty_file_offers_nothing(settings: Any, tmp_path: Path) -> None:
    settings.TRADEDESK_SIM_UNIVERSE_FILE = str(tmp_path / "missing.txt")
    assert universe_symbols() == frozenset()
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    settings.TRADEDESK_SIM_UNIVERSE_FILE = str(empty)
    assert universe_symbols() == frozenset()
