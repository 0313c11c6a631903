"""What every preflight check shares: the Check, LEAN's fixed names and versions, running a program."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

LAUNCHER_DLL = "QuantConnect.Lean.Launcher.dll"
IB_PLUGIN_DLL = "QuantConnect.Brokerages.InteractiveBrokers.dll"
# DockerfileLeanFoundation 27 and 418: LEAN's Python.NET runs CPython 3.11.
LEAN_PYTHON_VERSION = "3.11"
# InteractiveBrokersBrokerage.cs 111 (DefaultVersion), used when ib-version is not set.
IB_DEFAULT_VERSION = "1034"
DATA_FILES = (
    "market-hours/market-hours-database.json",
    "symbol-properties/symbol-properties-database.csv",
)
COMMAND_TIMEOUT = 20


@dataclass(frozen=True)
class Check:
    """One preflight check: its name, whether it passed, what was found, and the fix when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`ok   name: detail` or `FAIL name: detail -- fix: ...`."""
        if self.ok:
            return f"ok   {self.name}: {self.detail}"
        return f"FAIL {self.name}: {self.detail} -- fix: {self.fix}"


def launcher_dir() -> Path | None:
    return Path(settings.LEAN_LAUNCHER_DIR).expanduser().resolve() if settings.LEAN_LAUNCHER_DIR else None


def run_program(command: list[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return done.returncode, (done.stdout or done.stderr).strip()
