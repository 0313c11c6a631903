"""Orders the simulator refuses with an Invalid event: a zero quantity, a bad symbol, one outside the universe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.execution.simulator.harness import REPO_ROOT, Engine, intent, order_command, start_engine

__all__ = ["start_engine"]  # the fixture this module's tests use


def test_zero_quantity_command_is_rejected_with_invalid_event(start_engine: Callable[..., Engine]):
    engine = start_engine()
    result = engine.send_command(order_command("AAPL", 0, "oi_zero"))
    events = engine.wait_status("oi_zero", "Invalid")

    assert result["Success"] is False and result["Message"]
    assert events[-1]["message"] == "Order quantity must not be zero"
    assert events[-1]["filled"] == 0 and events[-1]["event_id"] == 1


def test_invalid_symbol_intent_gets_invalid_event(start_engine: Callable[..., Engine]):
    engine = start_engine(intent=intent("oi_bad", "aapl; rm", 1))
    events = engine.wait_status("oi_bad", "Invalid")

    assert [e["status"] for e in events] == ["Invalid"]
    assert "symbol" in events[0]["message"].lower()


def test_a_symbol_outside_the_universe_gets_invalid_like_an_unknown_contract(
    start_engine: Callable[..., Engine], tmp_path: Path
):
    universe = tmp_path / "universe.txt"
    universe.write_text("# test universe\nAAPL\nMSFT  # a comment\n")
    engine = start_engine(universe_file=str(universe))
    refused = engine.send_command(order_command("ZZZZZZ", 1, "oi_unknown"))
    accepted = engine.send_command(order_command("MSFT", 1, "oi_known"))
    events = engine.wait_status("oi_unknown", "Invalid")
    engine.wait_status("oi_known", "Filled")

    assert refused["Success"] is False and accepted["Success"] is True
    assert events[-1]["message"] == "Invalid order: unknown contract ZZZZZZ (no security definition found)"


def test_the_shipped_universe_holds_the_symbols_the_desk_uses():
    from execution.simulator import universe_load

    universe = universe_load(REPO_ROOT / "execution" / "data" / "us_equities.txt")
    assert {"AAPL", "MSFT", "NVDA", "KO", "TSLA", "SPY", "BRK.B"} <= universe and "ZZZZZZ" not in universe
