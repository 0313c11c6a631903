"""The simulator's command files: an order command's result and events, a cancel, an unparseable file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from tests.execution.simulator.harness import Engine, cancel_command, order_command, start_engine

__all__ = ["start_engine"]  # the fixture this module's tests use


def test_order_command_gets_success_result_and_events(start_engine: Callable[..., Engine]):
    engine = start_engine()
    stray = engine.workdir / ".command-being-written.tmp"
    stray.write_text("{half")
    command = order_command("AAPL", -3, "oi_cmd")
    result = engine.send_command(command)

    assert result["Success"] is True and result["CommandName"] == "OrderCommand"
    assert result["Id"] == command["Id"]
    assert result["$type"] == "QuantConnect.Packets.CommandResultPacket, QuantConnect.Common"
    assert not (engine.workdir / f"command-{command['Id']}.json").exists()
    events = engine.wait_status("oi_cmd", "Filled")
    assert [(e["order_id"], e["event_id"], e["status"]) for e in events] == [
        (1, 1, "Submitted"),
        (1, 2, "Filled"),
    ]
    assert stray.exists()  # only command*.json is LEAN's pattern; hidden temp files are left alone


def test_cancel_command_cancels_working_order_only(start_engine: Callable[..., Engine]):
    engine = start_engine()
    engine.send_command(order_command("AAPL", 10, "oi_wait", "Limit", 1.0))
    order_id = engine.wait_status("oi_wait", "Submitted")[0]["order_id"]

    result = engine.send_command(cancel_command(order_id))
    events = engine.wait_status("oi_wait", "Canceled")
    again = engine.send_command(cancel_command(order_id))
    unknown = engine.send_command(cancel_command(99))

    assert result["Success"] is True and result["CommandName"] == "CancelOrderCommand"
    assert [e["status"] for e in events] == ["Submitted", "Canceled"] and events[-1]["event_id"] == 2
    # LEAN answers Success for a cancel of a closed order too (CancelOrderCommand.cs:34-40@24863901), no event.
    assert again["Success"] is True and "already Canceled: nothing canceled" in again["Message"]
    assert unknown["Success"] is False and unknown["Message"]


def placed(path: Path, text: str) -> Path:
    """`text` written under a staging name the engine ignores, then renamed to `path`."""
    staging = path.with_name(f".{path.name}.staging")
    staging.write_text(text)
    os.replace(staging, path)
    return path


def test_unparseable_command_file_is_deleted_and_engine_keeps_running(start_engine: Callable[..., Engine]):
    engine = start_engine()
    # Each file lands whole under its name (as tradedesk writes commands): an engine that wakes on a file's
    # creation must not see it still empty, or the torn command's Id would never be read.
    garbage = placed(engine.workdir / "command-garbage.json", "this is {not json")
    engine.wait_for(lambda: not garbage.exists(), "garbage command deleted")
    with_id = placed(
        engine.workdir / "command-torn.json",
        '{"$type": "QuantConnect.Commands.OrderCommand, QuantConnect.Common", "Id": "abc-1", ',
    )
    torn_result = engine.workdir / "result-command-abc-1.json"
    engine.wait_for(torn_result.exists, "result for the torn command")

    assert json.loads(torn_result.read_text())["Success"] is False
    assert not with_id.exists()
    assert engine.proc.poll() is None
    assert engine.send_command(order_command("AAPL", 1, "oi_after"))["Success"] is True
    engine.wait_status("oi_after", "Filled")
