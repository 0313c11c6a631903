"""The LEAN build and this host's engine folders: dotnet, the launcher and what sits beside it, the data folder,
the variables, the engine folder, one LEAN per host."""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from execution.contract.files import read_json
from execution.engine import process as engines
from execution.engine.config import lean_data_folder, lean_missing_settings
from execution.engine.preflight.base import (
    DATA_FILES,
    IB_PLUGIN_DLL,
    LAUNCHER_DLL,
    Check,
    launcher_dir,
    run_program,
)


def check_dotnet() -> Check:
    """dotnet on PATH, its version, and the .NET runtime the launcher was built for."""
    program = (shlex.split(settings.LEAN_LAUNCHER_CMD) or ["dotnet"])[0]
    found = shutil.which(program)
    fix = "install the .NET SDK LEAN's readme asks for (net10.0 at 24863901) and put dotnet on PATH"
    if found is None:
        return Check("dotnet", False, f"{program!r} is not on PATH", fix)
    code, version = run_program([found, "--version"])
    if code != 0:
        return Check("dotnet", False, f"{found} --version failed: {version[:200]}", fix)
    launcher = launcher_dir()
    runtime_config = (
        read_json(launcher / "QuantConnect.Lean.Launcher.runtimeconfig.json") if launcher else None
    )
    wanted = ""
    if isinstance(runtime_config, dict):
        framework = (runtime_config.get("runtimeOptions") or {}).get("framework") or {}
        wanted = str(framework.get("version", ""))
    if wanted:
        code, runtimes = run_program([found, "--list-runtimes"])
        major = wanted.split(".")[0]
        if not re.search(rf"^Microsoft\.NETCore\.App {re.escape(major)}\.", runtimes, re.MULTILINE):
            return Check(
                "dotnet",
                False,
                f"{found} {version} has no Microsoft.NETCore.App {major}.x runtime (the launcher wants {wanted})",
                fix,
            )
    return Check("dotnet", True, f"{found} {version}")


def check_launcher() -> Check:
    """The launcher dll in LEAN_LAUNCHER_DIR."""
    launcher = launcher_dir()
    fix = "build LEAN (dotnet build QuantConnect.Lean.sln -c Release) and set LEAN_LAUNCHER_DIR to Launcher/bin/Release"
    if launcher is None:
        return Check("launcher", False, "LEAN_LAUNCHER_DIR is not set", fix)
    if not (launcher / LAUNCHER_DLL).is_file():
        return Check("launcher", False, f"{launcher / LAUNCHER_DLL} not found", fix)
    return Check("launcher", True, str(launcher / LAUNCHER_DLL))


def check_algorithm_imports() -> Check:
    """AlgorithmImports.py in the launcher folder (python-additional-paths puts it on sys.path)."""
    launcher = launcher_dir()
    path = launcher / "AlgorithmImports.py" if launcher else None
    if path is None or not path.is_file():
        return Check(
            "AlgorithmImports.py",
            False,
            f"{path or 'LEAN_LAUNCHER_DIR/AlgorithmImports.py'} not found",
            "build LEAN: Common/QuantConnect.csproj copies AlgorithmImports.py into the launcher build folder",
        )
    return Check("AlgorithmImports.py", True, str(path))


def check_ib_plugin() -> Check:
    """The IB brokerage plugin beside the launcher."""
    launcher = launcher_dir()
    path = launcher / IB_PLUGIN_DLL if launcher else None
    if path is None or not path.is_file():
        return Check(
            "IB plugin",
            False,
            f"{path or IB_PLUGIN_DLL} not found",
            "build Lean.Brokerages.InteractiveBrokers and copy only its own files into the launcher folder "
            "(docs/lean.md section 2)",
        )
    return Check("IB plugin", True, str(path))


# The engine unit runs with ProtectSystem=full (deploy/systemd/tradedesk-engine@.service): these are read-only in it.
READ_ONLY_IN_UNIT = (Path("/usr"), Path("/boot"), Path("/efi"), Path("/etc"))


def writable_by(path: Path, *, uid: int, gids: set[int]) -> bool:
    """Whether the permission bits let this user create files in `path` (write and search), root included:
    a root preflight must not pass a folder the engine user cannot write."""
    info = path.stat()
    if info.st_uid == uid:
        bits = 0o300
    elif info.st_gid in gids:
        bits = 0o030
    else:
        bits = 0o003
    return info.st_mode & bits == bits


def check_launcher_writable() -> Check:
    """The launcher folder is writable by the engine user (the user running this): IBAutomater writes
    IBAutomater.json beside its assembly there at every IB Gateway start (IBAutomater.cs:1173-1175,1209-1216 at
    20815f5, tests/fixtures/lean/secrets-excerpt.json) and the start fails when it cannot."""
    name = "launcher writable"
    launcher = launcher_dir()
    if launcher is None or not launcher.is_dir():
        return Check(
            name, False, f"{launcher or 'LEAN_LAUNCHER_DIR'} is not a folder", "set LEAN_LAUNCHER_DIR"
        )
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    fix = (
        f"chown -R {user} {launcher} && chmod 0700 {launcher} (the engine user owns it, nobody else reads it: "
        "IBAutomater.json holds the IB password; docs/lean.md section 3), and run lean_preflight as the engine user"
    )
    protected = next((top for top in READ_ONLY_IN_UNIT if launcher.is_relative_to(top)), None)
    if protected is not None:
        return Check(
            name,
            False,
            f"{launcher} is under {protected}, read-only for tradedesk-engine@.service (ProtectSystem=full)",
            "build LEAN outside /usr, /boot, /efi and /etc (e.g. /opt/Lean) and point LEAN_LAUNCHER_DIR there",
        )
    if not writable_by(launcher, uid=uid, gids={os.getegid(), *os.getgroups()}):
        return Check(
            name,
            False,
            f"{launcher} is not writable by {user} (mode {launcher.stat().st_mode & 0o777:o})",
            fix,
        )
    try:
        with tempfile.NamedTemporaryFile(dir=launcher, prefix=".preflight-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{launcher}: {exc}", fix)
    return Check(name, True, f"{launcher} writable by {user}")


def check_data_folder() -> Check:
    """LEAN's data folder with the market-hours and symbol-properties databases."""
    launcher = launcher_dir()
    folder = lean_data_folder(launcher) if launcher else None
    fix = "set LEAN_DATA_FOLDER to LEAN's Data folder (a clone of QuantConnect/Lean has it)"
    if folder is None:
        return Check("data folder", False, "LEAN_DATA_FOLDER and LEAN_LAUNCHER_DIR are not set", fix)
    missing = [name for name in DATA_FILES if not (folder / name).is_file()]
    if missing:
        return Check("data folder", False, f"{folder} lacks {', '.join(missing)}", fix)
    return Check("data folder", True, str(folder))


def check_variables(mode: str) -> Check:
    """The QuantConnect and IB variables a LEAN engine of `mode` needs (names only, never values)."""
    missing = lean_missing_settings(mode)
    if missing:
        return Check(
            "variables", False, f"missing {', '.join(missing)}", "set them in the engine host's environment"
        )
    return Check("variables", True, f"QuantConnect and IB {mode} variables set")


def check_engine_folder(mode: str) -> Check:
    """The mode's engine folder can be created and written."""
    folder = engines.engine_dir(mode)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".preflight-"):
            pass
    except OSError as exc:
        return Check("engine folder", False, f"{folder}: {exc}", "make TRADEDESK_EXECUTION_ROOT writable")
    return Check("engine folder", True, f"{folder} writable")


def check_single_lean(mode: str) -> Check:
    """No LEAN engine of another mode on this host (each IB Gateway start kills every java process)."""
    other = engines.other_lean_engine(mode)
    if other is not None:
        return Check(
            "one LEAN per host",
            False,
            f"the {other[0]} LEAN engine (pid {other[1]}) runs on this host",
            "run paper and live on separate hosts or OS users (docs/lean.md section 4)",
        )
    return Check("one LEAN per host", True, "no other LEAN engine here")
