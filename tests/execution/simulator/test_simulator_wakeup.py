"""The simulator's wait between steps (execution/simulator/wakeup.py): a command file wakes it, a fill comes
when it is due, a signal ends the wait, all long before the poll interval; without inotify it polls."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from execution.simulator.wakeup import Wakeup
from tests.execution.simulator.harness import (
    Engine,
    order_command,
    start_engine,
)

__all__ = ["start_engine"]  # the fixture this module's tests use

# Far longer than any wait below (4 s): what happens before it was woken, not polled.
LONG_POLL = 600


def test_a_command_file_wakes_the_engine_and_its_fill_comes_when_due_not_at_the_next_poll(
    start_engine: Callable[..., Engine],
) -> None:
    engine = start_engine(poll_interval=LONG_POLL, fill_delay=0.05)

    result = engine.send_command(order_command("AAPL", 3, "oi_3_1_wake"))

    assert result["Success"] is True
    events = engine.wait_status("oi_3_1_wake", "Filled")
    assert [e["status"] for e in events] == ["Submitted", "Filled"]


def test_commands_one_after_another_each_wake_the_engine(
    start_engine: Callable[..., Engine],
) -> None:
    engine = start_engine(poll_interval=LONG_POLL, fill_delay=0)

    for index in range(3):
        assert engine.send_command(order_command("AAPL", 1, f"oi_3_1_seq{index}"))["Success"] is True
        engine.wait_status(f"oi_3_1_seq{index}", "Filled")


def test_a_signal_ends_the_wait_and_the_engine_stops(start_engine: Callable[..., Engine]) -> None:
    engine = start_engine(poll_interval=LONG_POLL)

    engine.proc.send_signal(signal.SIGTERM)

    assert engine.wait_exit() == 0
    assert engine.lines()[-1]["status"] == "stopped" and engine.lines()[-1]["reason"] == "signal"


def test_without_inotify_the_poll_still_answers_commands_and_fills(
    start_engine: Callable[..., Engine],
) -> None:
    engine = start_engine(poll_interval=0.05, inotify=False)

    result = engine.send_command(order_command("AAPL", 2, "oi_3_1_poll"))

    assert result["Success"] is True
    engine.wait_status("oi_3_1_poll", "Filled")


def _later(action: Callable[[], object], seconds: float = 0.05) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_command_renamed_in_or_written_in_place_ends_a_long_wait(tmp_path: Path) -> None:
    wakeup = Wakeup(tmp_path)
    assert wakeup.watching
    try:
        staged = tmp_path / ".command-1.json.tmp"
        staged.write_text("{}")
        thread = _later(lambda: os.replace(staged, tmp_path / "command-1.json"))
        assert wakeup.wait(LONG_POLL) is True
        thread.join()
        thread = _later(lambda: (tmp_path / "command-2.json").write_text("{}"))
        assert wakeup.wait(LONG_POLL) is True
        thread.join()
    finally:
        wakeup.close()


def test_the_engines_own_files_do_not_end_the_wait(tmp_path: Path) -> None:
    wakeup = Wakeup(tmp_path)
    try:
        thread = _later(lambda: (tmp_path / "events.jsonl").write_text("{}\n"))
        assert wakeup.wait(0.3) is False
        thread.join()
    finally:
        wakeup.close()


def test_the_stop_flag_ends_a_long_wait(tmp_path: Path) -> None:
    stop = threading.Event()
    wakeup = Wakeup(tmp_path, stopping=stop.is_set)
    try:
        thread = _later(stop.set)
        assert wakeup.wait(LONG_POLL) is False
        thread.join()
    finally:
        wakeup.close()
