"""Where a mode's engine lives and what its folder says about it: running, stopped, error or not started."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from execution.contract.files import read_json, tail_lines
from execution.contract.folder import (
    EXIT_FILE,
    LOG_FILE,
    MODES,
    PID_FILE,
    PREFLIGHT_FILE,
    REFUSED_FILE,
    STOP_FILE,
    EngineFolder,
)

__all__ = [
    "EXIT_FILE",
    "LOG_FILE",
    "MODES",
    "PID_FILE",
    "PREFLIGHT_FILE",
    "REFUSED_FILE",
    "STOP_FILE",
    "EngineError",
    "EngineFolder",
    "EngineState",
    "engine_dir",
    "engine_folder",
    "engine_state",
    "pid_alive",
    "running_engine",
]


class EngineError(Exception):
    """The engine could not be started or reached."""


@dataclass
class EngineState:
    """What is known about a mode's engine from its folder."""

    mode: str
    state: str  # running | stopped | error | not started
    pid: int | None = None
    run_id: str = ""
    started_at: str = ""
    exit_code: int | None = None
    exited_at: str = ""
    message: str = ""
    log_tail: list[str] = field(default_factory=list)
    refused: str = ""  # why tradedesk last refused to start this mode's engine (cleared by a start)
    preflight: list[str] = field(default_factory=list)  # lean_preflight's failing lines after a failed start
    ended_by: str = ""  # "brokerage": LEAN ended the run itself on a brokerage message (message: which)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def engine_dir(mode: str) -> Path:
    """The engine's working directory (also its cwd): <EXECUTION_ROOT>/engines/<mode>/."""
    return engine_folder(mode).path


def engine_folder(mode: str) -> EngineFolder:
    """The mode's engine folder: the paths of its files (docs/engine-contract.md)."""
    if mode not in MODES:
        raise EngineError(f"unknown mode {mode!r}")
    return EngineFolder.of(settings.TRADEDESK_EXECUTION_ROOT, mode)


def pid_alive(pid: int, marker: str) -> bool:
    """True when the pid runs, is no zombie, and its command line mentions `marker` (no pid reuse)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except (FileNotFoundError, IndexError):
        return False
    return marker in cmdline


def running_engine(mode: str) -> dict[str, Any] | None:
    """The pid file of the mode's live engine, or None when no engine is alive."""
    folder = engine_folder(mode)
    info = read_json(folder.pid)
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    if pid_alive(info["pid"], str(folder.config.resolve())):
        return info
    return None


def engine_state(mode: str) -> EngineState:
    """The mode's engine state (running, stopped, error, not started), with a refusal and preflight lines."""
    state = _process_state(mode)
    folder = engine_dir(mode)
    refused = read_json(folder / REFUSED_FILE)
    if isinstance(refused, dict) and state.state != "running":
        state.refused = str(refused.get("message", ""))
    preflight = read_json(folder / PREFLIGHT_FILE)
    if isinstance(preflight, dict) and state.state != "running":
        state.preflight = [str(line) for line in preflight.get("failing", [])]
    return state


def _process_state(mode: str) -> EngineState:
    """What the pid file and the exit record say about the mode's engine process."""
    folder = engine_dir(mode)
    info = running_engine(mode)
    if info is not None:
        return EngineState(
            mode=mode,
            state="running",
            pid=info["pid"],
            run_id=str(info.get("run_id", "")),
            started_at=str(info.get("started_at", "")),
        )
    pid_info = read_json(folder / PID_FILE)
    exit_info = read_json(folder / EXIT_FILE)
    if not isinstance(pid_info, dict):
        return EngineState(mode=mode, state="not started")
    run_id = str(pid_info.get("run_id", ""))
    if isinstance(exit_info, dict) and exit_info.get("run_id") == run_id:
        code = exit_info.get("exit_code")
        # An engine tradedesk asked to stop is stopped, even if the signal beat its handler; so is a run LEAN
        # ended itself on a brokerage message (the supervisor read it in LEAN's log: supervise.BrokerageEnd).
        requested = (read_json(folder / STOP_FILE) or {}).get("run_id") == run_id
        ended_by = "brokerage" if exit_info.get("ended_by") == "brokerage" and not requested else ""
        return EngineState(
            mode=mode,
            state="stopped" if code == 0 or requested or ended_by else "error",
            ended_by=ended_by,
            pid=pid_info.get("pid"),
            run_id=run_id,
            started_at=str(pid_info.get("started_at", "")),
            exit_code=code if isinstance(code, int) else None,
            exited_at=str(exit_info.get("exited_at", "")),
            message=str(exit_info.get("message", ""))
            or (
                ""
                if code == 0
                else f"{'stopped on request, ' if requested else ''}engine exited with code {code}"
            ),
            log_tail=[str(line) for line in exit_info.get("log_tail", [])][-20:],
        )
    return EngineState(
        mode=mode,
        state="error",
        pid=pid_info.get("pid"),
        run_id=run_id,
        started_at=str(pid_info.get("started_at", "")),
        message="engine process is gone and left no exit record",
        log_tail=tail_lines(folder / LOG_FILE),
    )
