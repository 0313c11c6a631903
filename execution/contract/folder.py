"""The engine folder (`<execution root>/engines/<mode>/`): the name of every file in it, in one place.

Standard library only: the supervisor and the simulator use it before Django is anywhere. The LEAN algorithm
keeps its own copy of the names it needs (LEAN loads that file alone); tests/execution/lean/ holds it to these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MODES = ("paper", "live")
ENGINES_DIR = "engines"  # under the execution root: one folder per mode

EVENTS_FILE = "events.jsonl"
INTENTS_DIR = "intents"
PRICES_FILE = "prices.json"  # the prices snapshot, beside the events file
ACCOUNT_SNAPSHOT_FILE = "account.json"  # the account snapshot, beside the prices
# Touched every few seconds while `make run`'s desk runs: the simulator never exits idle while it is fresh.
DESK_ALIVE_FILE = "desk.alive"
CONFIG_FILE = "config.json"
PID_FILE = "engine.pid"
EXIT_FILE = "engine.exit.json"
LOG_FILE = "engine.log"
STOP_FILE = "engine.stop-requested.json"
REFUSED_FILE = "engine.refused.json"
PREFLIGHT_FILE = "engine.preflight.json"
LOCK_FILE = ".supervisor.lock"  # flock: "is an engine alive? else start one" is one step
ARCHIVE_DIR = "events-archive"  # rotated events files (manage.py events_rotate)
RUNS_DIR = "runs"  # run records: <run id>.parameters.json, <run id>.exit.json
# LEAN FileCommandHandler reads `command*.json` from its cwd and answers in `result-<file name>`.
COMMAND_PATTERN = "command*.json"  # matched case-sensitively
COMMAND_PREFIX = "command-"
RESULT_PREFIX = "result-command-"
# A command file before it is renamed into place, and one taken back: names LEAN's pattern never matches.
STAGED_COMMAND_SUFFIX = ".tmp"
RETRACTED_COMMAND_SUFFIX = ".retracted"


@dataclass(frozen=True)
class EngineFolder:
    """One engine's folder and the paths of its files (nothing is read or created here)."""

    path: Path

    @classmethod
    def of(cls, root: Path | str, mode: str) -> EngineFolder:
        """The folder of `mode`'s engine under the execution root."""
        return cls(Path(root) / ENGINES_DIR / mode)

    @property
    def mode(self) -> str:
        """The mode the folder is named after."""
        return self.path.name

    @property
    def events(self) -> Path:
        """The events file the engine appends to."""
        return self.path / EVENTS_FILE

    @property
    def archive(self) -> Path:
        """The folder of rotated events files."""
        return self.path / ARCHIVE_DIR

    @property
    def intents(self) -> Path:
        """The folder of order-intent files."""
        return self.path / INTENTS_DIR

    def intent(self, client_order_id: str) -> Path:
        """The intent file of one order."""
        return self.intents / f"{client_order_id}.json"

    @property
    def prices(self) -> Path:
        """The prices snapshot."""
        return self.path / PRICES_FILE

    @property
    def account_snapshot(self) -> Path:
        """The account snapshot (the IB login's balances)."""
        return self.path / ACCOUNT_SNAPSHOT_FILE

    @property
    def desk_alive(self) -> Path:
        """The desk's keep-alive file (manage.py desk_engine touches it; the simulator reads its age)."""
        return self.path / DESK_ALIVE_FILE

    @property
    def config(self) -> Path:
        """The launch config (its resolved path also marks the engine's process)."""
        return self.path / CONFIG_FILE

    @property
    def pid(self) -> Path:
        """The supervisor's pid file."""
        return self.path / PID_FILE

    @property
    def exit(self) -> Path:
        """The supervisor's record of how the engine ended."""
        return self.path / EXIT_FILE

    @property
    def log(self) -> Path:
        """The engine's output."""
        return self.path / LOG_FILE

    @property
    def lock(self) -> Path:
        """The mode's lock file."""
        return self.path / LOCK_FILE

    @property
    def runs(self) -> Path:
        """The folder of run records."""
        return self.path / RUNS_DIR

    def run_parameters(self, run_id: str) -> Path:
        """The launch parameters of one run."""
        return self.runs / f"{run_id}.parameters.json"

    def command(self, command_id: str) -> Path:
        """Where a command file lives while the engine has not read it."""
        return self.path / f"{COMMAND_PREFIX}{command_id}.json"

    def result(self, command_id: str) -> Path:
        """Where the engine answers a command."""
        return self.path / f"{RESULT_PREFIX}{command_id}.json"

    def command_staged(self, command_id: str) -> Path:
        """A command file being written, before its rename to `command`."""
        return self.path / f".{COMMAND_PREFIX}{command_id}{STAGED_COMMAND_SUFFIX}"

    def command_retracted(self, command_id: str) -> Path:
        """A command file the (dead) engine never read, taken back."""
        return self.path / f".{COMMAND_PREFIX}{command_id}{RETRACTED_COMMAND_SUFFIX}"

    def retracted_commands(self) -> list[Path]:
        """Every command file taken back."""
        return list(self.path.glob(f".{COMMAND_PREFIX}*{RETRACTED_COMMAND_SUFFIX}"))

    def command_results(self) -> list[Path]:
        """Every answer of the engine to a command."""
        return list(self.path.glob(f"{RESULT_PREFIX}*.json"))


def events_file_mode(path: Path | str, *, root: Path | str) -> str | None:
    """The mode whose engine writes this file (a file in `engines/<mode>/` under `root`), else None.

    The folder, not the file, is resolved: the file may be a symlink (refused later, never followed)."""
    engines_root = (Path(root) / ENGINES_DIR).resolve()
    folder = Path(os.path.abspath(path)).parent.resolve()
    if folder.parent != engines_root:
        return None
    return folder.name if folder.name in MODES else None
