"""Engine supervisor: at most one engine per IB login (= per mode), started when none is alive, else fed
command files (command_files.py: how they are written, taken back and answered; launch.py: how a process
starts)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from execution.contract import cancel_command, order_command, update_command
from execution.contract.files import read_json, write_json_atomic
from execution.engine.command_files import (
    command_id_for,
    command_path,
    read_command_result,
    result_path,
    retract_command,
    write_command,
)
from execution.engine.config import build_execution_config
from execution.engine.launch import engine_environment, launch_execution
from execution.engine.leftovers import commands_take_back
from execution.engine.state import (
    MODES,
    PREFLIGHT_FILE,
    REFUSED_FILE,
    STOP_FILE,
    EngineError,
    EngineState,
    engine_dir,
    engine_folder,
    engine_state,
    pid_alive,
    running_engine,
)
from execution.engine.subscribe import subscribe_locked

if TYPE_CHECKING:  # a type only: nothing here queries orders (callers hand the order in)
    from orders.models import TradeOrder

logger = logging.getLogger("execution.engine.process")

# After SIGTERM, how long a stop waits before SIGKILL (at most the SIGINT wait); after SIGKILL, how long it
# waits for the process to go, then for the supervisor's exit record (the engine unit's TimeoutStopSec covers all).
TERM_GRACE_SECONDS = 10.0
KILL_WAIT_SECONDS = 5.0
EXIT_RECORD_WAIT_SECONDS = 5.0


class EngineRefused(EngineError):
    """tradedesk refused to start the engine (another LEAN engine runs on this host)."""


@dataclass(frozen=True)
class Handover:
    """How an order reached its engine."""

    # "start": passed as the intent of a fresh engine; "command": an OrderCommand file; "refused": not sent,
    # because the running engine would get an order the market-hours rule refuses.
    kind: str
    run_id: str
    pid: int
    command_id: str = ""
    command_path: str = ""


def new_run_id() -> str:
    """A fresh engine run id: r-<UTC time>-<random>."""
    return f"r-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


@contextmanager
def mode_lock(mode: str) -> Iterator[None]:
    """An exclusive lock on a mode's engine folder: the check-then-start of an engine is one step."""
    folder = engine_folder(mode)
    folder.path.mkdir(parents=True, exist_ok=True)
    with open(folder.lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def lean_host_lock() -> Iterator[None]:
    """A lock over every mode's LEAN start: the check for another LEAN engine and the start are one step."""
    root = Path(settings.TRADEDESK_EXECUTION_ROOT) / "engines"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lean-host.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def other_lean_engine(mode: str) -> tuple[str, int] | None:
    """(mode, pid) of a LEAN engine of this install that runs on this host for another mode, or None."""
    for other in MODES:
        if other == mode:
            continue
        info = running_engine(other)
        command = " ".join(str(part) for part in (info or {}).get("command", []))
        if info is not None and "execution.simulator" not in command:
            return other, int(info["pid"])
    return None


def _refuse_second_lean(mode: str) -> None:
    """Refuse a LEAN start while another mode's LEAN runs here: each IB Gateway start kills the other's."""
    other = other_lean_engine(mode)
    if other is None:
        return
    message = (
        f"refused to start the {mode} LEAN engine: the {other[0]} LEAN engine (pid {other[1]}) runs on this "
        "host, and every IB Gateway start or restart runs IBAutomater.sh, which kills every Xvfb and java "
        "process of the host (pkill -9 java). Run paper and live on separate hosts or as separate OS users "
        "(docs/lean.md, section 4)."
    )
    write_json_atomic(
        engine_dir(mode) / REFUSED_FILE, {"message": message, "at": datetime.now(UTC).isoformat()}
    )
    logger.warning(
        "engine start refused", extra={"mode": mode, "other_mode": other[0], "other_pid": other[1]}
    )
    raise EngineRefused(message)


def _start_engine(mode: str, *, intent_path: Path | None) -> tuple[str, int]:
    """Start a new engine run for the mode (caller holds the mode lock); returns (run_id, pid)."""
    if settings.TRADEDESK_ENGINE != "lean":
        return _launch(mode, intent_path=intent_path)
    with lean_host_lock():
        _refuse_second_lean(mode)
        return _launch(mode, intent_path=intent_path)


def _launch(mode: str, *, intent_path: Path | None) -> tuple[str, int]:
    """Write the config and start the engine under its supervisor; returns (run_id, pid)."""
    folder = engine_folder(mode)
    folder.intents.mkdir(parents=True, exist_ok=True)
    folder.runs.mkdir(exist_ok=True)
    previous = read_json(folder.exit)
    if isinstance(previous, dict) and previous.get("run_id"):
        # Keep each finished run's exit record for the engine history.
        os.replace(folder.exit, folder.runs / f"{previous['run_id']}.exit.json")
    run_id = new_run_id()
    # Nothing addressed by an earlier run's order ids reaches this run (engine/leftovers.py).
    commands_take_back(folder=folder, mode=mode, next_run_id=run_id)
    config_path = build_execution_config(
        mode=mode, workdir=folder.path, run_id=run_id, intent_path=intent_path
    )
    # Write-ahead record of what this run is given (no secrets): once it exists, the intent may have reached
    # the engine, so the sweep never sends that order again.
    parameters = (read_json(config_path) or {}).get("parameters", {})
    write_json_atomic(folder.run_parameters(run_id), parameters)
    pid = launch_execution(config_path)
    for stale in (REFUSED_FILE, PREFLIGHT_FILE):
        (folder.path / stale).unlink(missing_ok=True)
    logger.info("engine started", extra={"mode": mode, "run_id": run_id, "pid": pid})
    return run_id, pid


def intent_handed_over(mode: str, intent_path: Path) -> str | None:
    """The run id of an engine run that was started with this intent, or None."""
    runs = engine_folder(mode).runs
    wanted = str(Path(intent_path).resolve())
    for record in sorted(runs.glob("*.parameters.json")):
        parameters = read_json(record)
        if isinstance(parameters, dict) and parameters.get("intent-file") == wanted:
            return str(parameters.get("run-id", record.name.removesuffix(".parameters.json")))
    return None


def engine_holds(order: TradeOrder) -> bool:
    """Whether the engine run the order was handed to is its mode's running engine (the one answer)."""
    run_id = order.engine_record.run_id
    running = running_engine(order.mode)
    return bool(run_id) and running is not None and str(running.get("run_id")) == run_id


def wait_command_result(mode: str, command_id: str, *, timeout: float) -> dict[str, Any] | None:
    """Wait for the result of a command; None when none came (the engine may be starting or gone)."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        result = read_command_result(mode, command_id)
        if result is not None:
            # Read once: the order's dispatch record (handed_over_at) already tells the sweep it arrived,
            # so the file is removed instead of piling up one per order.
            result_path(mode, command_id).unlink(missing_ok=True)
            return result
        if time.monotonic() >= deadline:
            return result
        if not command_path(mode, command_id).exists() and running_engine(mode) is None:
            return read_command_result(mode, command_id)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def hand_over(*, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = "") -> Handover:
    """Give an order to the mode's engine: as a command to a running one, else as the intent of a new one.

    A `refusal` (the market-hours rule's) stops a command to a running engine; a new engine applies the same
    rule to its intent itself."""
    with mode_lock(mode):
        info = running_engine(mode)
        if info is not None and refusal:
            return Handover(kind="refused", run_id=str(info.get("run_id", "")), pid=info["pid"])
        if info is not None:
            # The symbol first: its command file sorts before the order's (engine/subscribe.py).
            subscribe_locked(mode=mode, run_id=str(info.get("run_id", "")), symbol=str(command["Ticker"]))
            path = write_command(mode, command)
            return Handover(
                kind="command",
                run_id=str(info.get("run_id", "")),
                pid=info["pid"],
                command_id=command["Id"],
                command_path=str(path),
            )
        if not settings.TRADEDESK_ENGINE_AUTOSTART:
            raise EngineError(
                f"no {mode} engine is running; start it with `manage.py engine start --mode {mode}`"
                " (TRADEDESK_ENGINE_AUTOSTART is off)"
            )
        run_id, pid = _start_engine(mode, intent_path=intent_path)
        return Handover(kind="start", run_id=run_id, pid=pid)


def ensure_command_read(*, mode: str, command_id: str, intent_path: Path) -> Handover | None:
    """If the engine died before reading a command, take it back and start a new engine with the intent."""
    if not settings.TRADEDESK_ENGINE_AUTOSTART:
        # The command file stays: the engine unit's next run reads it (the sweep flags it meanwhile).
        return None
    with mode_lock(mode):
        if running_engine(mode) is not None or not retract_command(mode, command_id):
            return None
        run_id, pid = _start_engine(mode, intent_path=intent_path)
        return Handover(kind="start", run_id=run_id, pid=pid)


def send_command(mode: str, command: dict[str, Any]) -> Path:
    """Write a command for the running engine of a mode, or raise when none is alive."""
    with mode_lock(mode):
        if running_engine(mode) is None:
            raise EngineError(f"no {mode} engine is running")
        return write_command(mode, command)


def engine_subscribe(mode: str, symbol: str) -> str:
    """Subscribe the running engine to a symbol: "subscribed", "already subscribed" or "no engine running".

    Without a running engine there is nothing to do: a new run subscribes the symbols of the intents folder
    at its start (the algorithm's `intents-folder` parameter) and the dispatch subscribes each order's."""
    with mode_lock(mode):
        info = running_engine(mode)
        if info is None:
            return "no engine running"
        written = subscribe_locked(mode=mode, run_id=str(info.get("run_id", "")), symbol=symbol)
    return "subscribed" if written else "already subscribed"


def engine_start(mode: str) -> EngineState:
    """Start the mode's engine without an order (log in to IB before the open); no-op when one runs."""
    with mode_lock(mode):
        if running_engine(mode) is None:
            _start_engine(mode, intent_path=None)
    return engine_state(mode)


def _wait_gone(pid: int, marker: str, timeout: float) -> bool:
    """Wait up to `timeout` seconds for the engine process to end; True when it has."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def run_started(mode: str, run_id: str) -> bool:
    """Whether the run wrote its `started` engine line (LEAN's setup, the IB login included, is over)."""
    needle = run_id.encode()
    try:
        with open(engine_folder(mode).events, "rb") as handle:
            for raw in handle:
                if needle in raw and b'"started"' in raw:
                    line = json.loads(raw)
                    if (line.get("type"), line.get("status"), line.get("run_id")) == (
                        "engine",
                        "started",
                        run_id,
                    ):
                        return True
    except (OSError, ValueError):
        return False
    return False


def stop_engine(mode: str, *, timeout: float | None = None) -> EngineState:
    """Stop the mode's engine: SIGINT (LEAN's clean shutdown), then SIGTERM, then SIGKILL; its final state.

    LEAN handles only Console.CancelKeyPress (SIGINT, Launcher/Program.cs 98 at 24863901): the algorithm
    loop ends and OnEndOfAlgorithm runs (Engine/AlgorithmManager.cs 616), so the final holdings and the
    stopped line are written and IB Gateway is shut down. SIGTERM skips all of that.
    """
    wait = settings.TRADEDESK_ENGINE_STOP_TIMEOUT if timeout is None else timeout
    info = running_engine(mode)
    if info is not None:
        pid = info["pid"]
        marker = str(engine_folder(mode).config.resolve())
        sent: list[str] = []
        steps = [
            (signal.SIGINT, wait),
            (signal.SIGTERM, min(wait, TERM_GRACE_SECONDS)),
            (signal.SIGKILL, KILL_WAIT_SECONDS),
        ]
        if not run_started(mode, str(info.get("run_id", ""))):
            # During LEAN's setup (IB login, up to 15 minutes of 2FA) a SIGINT is swallowed: ExitKeyPress
            # calls AlgorithmManager.SetStatus, which acts only once the algorithm runs (Launcher/Program.cs:98,
            # 118-126, Engine/AlgorithmManager.cs:664-690 at 24863901). So terminate at once; the supervisor
            # then ends what IBAutomater left in its process group and removes IBAutomater.json.
            steps = steps[1:]
        for signum, grace in steps:
            sent.append(signum.name)
            write_json_atomic(
                engine_dir(mode) / STOP_FILE, {"run_id": info.get("run_id"), "pid": pid, "signals": sent}
            )
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                break
            if _wait_gone(pid, marker, grace):
                break
            logger.warning("engine did not stop", extra={"mode": mode, "pid": pid, "signal": signum.name})
        deadline = time.monotonic() + EXIT_RECORD_WAIT_SECONDS
        while not engine_folder(mode).exit.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return engine_state(mode)


# Re-exported: callers ask "the engines" for a folder, a state, a command's JSON or file, or a launch.
__all__ = [
    "MODES",
    "EngineError",
    "EngineRefused",
    "EngineState",
    "Handover",
    "cancel_command",
    "command_id_for",
    "command_path",
    "engine_dir",
    "engine_environment",
    "engine_folder",
    "engine_holds",
    "engine_start",
    "engine_state",
    "hand_over",
    "launch_execution",
    "order_command",
    "read_command_result",
    "result_path",
    "retract_command",
    "running_engine",
    "send_command",
    "stop_engine",
    "update_command",
    "write_command",
]
