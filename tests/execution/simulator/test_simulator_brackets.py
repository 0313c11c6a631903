"""The simulator's brackets: children on the entry's fills, grown with them, one-cancels-other in the same tick."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.execution.simulator.harness import (  # noqa: F401 (start_engine is a fixture)
    Engine,
    cancel_command,
    intent,
    order_command,
    start_engine,
)


def bracket_intent(tag: str, quantity: float, take_profit: float, stop_loss: float) -> dict[str, Any]:
    legs = {"take_profit": {"tag": f"{tag}.tp", "limit_price": take_profit},
            "stop_loss": {"tag": f"{tag}.sl", "stop_price": stop_loss}}  # fmt: skip
    return {**intent(tag, "AAPL", quantity), "bracket": legs}


def statuses(engine: Engine, tag: str) -> list[str]:
    return [event["status"] for event in engine.events(tag)]


def test_partial_fills_of_the_entry_place_and_grow_the_children(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    # Both legs far away: they rest while the entry fills in three parts.
    engine = start_engine(intent=bracket_intent("oi_b1", 6, 10000.0, 1.0), partial_fills=3)
    engine.wait_status("oi_b1", "Filled")
    for leg in ("oi_b1.tp", "oi_b1.sl"):
        engine.wait_for(lambda leg=leg: len(engine.events(leg)) >= 3, f"{leg} grown twice")
        events = engine.events(leg)
        assert [e["status"] for e in events] == ["Submitted", "UpdateSubmitted", "UpdateSubmitted"]
        assert [e.get("bracket_resize", False) for e in events] == [False, True, True]
        assert events[-1]["message"].startswith("Bracket resize: quantity -6")


def test_both_legs_touched_in_one_tick_fill_one_and_cancel_the_other(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    # A sell limit far under the price and a sell stop far over it: both cross at the first tick they work.
    engine = start_engine(intent=bracket_intent("oi_b2", 5, 1.0, 10000.0))
    engine.wait_for(lambda: {"Filled", "Canceled"} <= {e["status"] for e in engine.events()
                                                       if e["tag"].startswith("oi_b2.")}, "one leg each way")  # fmt: skip
    take, stop = statuses(engine, "oi_b2.tp"), statuses(engine, "oi_b2.sl")
    assert sorted([take[-1], stop[-1]]) == ["Canceled", "Filled"]
    assert "Filled" not in take or "Filled" not in stop
    canceled = next(e for e in engine.events() if e["tag"].startswith("oi_b2.") and e["status"] == "Canceled")
    assert canceled["message"].startswith("one-cancels-other")


def test_a_cancel_of_the_entry_cancels_its_children_and_places_no_more(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    command = {**order_command("AAPL", 4, "oi_b3", "Limit", 1.0),
               "Bracket": {"take_profit": {"tag": "oi_b3.tp", "limit_price": 2.0}}}  # fmt: skip
    assert engine.send_command(command)["Success"] is True
    submitted = engine.wait_status("oi_b3", "Submitted")
    assert engine.send_command(cancel_command(submitted[-1]["order_id"]))["Success"] is True
    engine.wait_status("oi_b3", "Canceled")
    assert engine.events("oi_b3.tp") == []


def test_a_bad_bracket_refuses_the_order(start_engine: Callable[..., Engine]) -> None:  # noqa: F811
    engine = start_engine()
    command = {**order_command("AAPL", 4, "oi_b4"), "Bracket": {"take_profit": {"tag": "", "limit_price": 2}}}
    result = engine.send_command(command)
    assert result["Success"] is False and "Bracket take_profit needs a tag" in result["Message"]
