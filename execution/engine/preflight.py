"""LEAN preflight: each thing a live LEAN start on IB needs, checked on this host, with the fix when it fails.

The facts behind each check were read in QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4,
QuantConnect/Lean.Brokerages.InteractiveBrokers at d154917dc6ec7fa99f2e588d3f5146c3b73b6344 and
QuantConnect/IBAutomater 2.0.91 at 20815f591bebf727e5fd0adbc614bd7d3a505e96, the version the IB plugin pins
(docs/lean.md cites the lines).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from execution.contract.files import read_json, write_json_atomic
from execution.engine import process as engines
from execution.engine.config import PROJECT_ROOT, lean_data_folder, lean_missing_settings
from execution.engine.state import EngineState

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


def _launcher_dir() -> Path | None:
    return Path(settings.LEAN_LAUNCHER_DIR).expanduser().resolve() if settings.LEAN_LAUNCHER_DIR else None


def _run(command: list[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return done.returncode, (done.stdout or done.stderr).strip()


def check_dotnet() -> Check:
    """dotnet on PATH, its version, and the .NET runtime the launcher was built for."""
    program = (shlex.split(settings.LEAN_LAUNCHER_CMD) or ["dotnet"])[0]
    found = shutil.which(program)
    fix = "install the .NET SDK LEAN's readme asks for (net10.0 at 24863901) and put dotnet on PATH"
    if found is None:
        return Check("dotnet", False, f"{program!r} is not on PATH", fix)
    code, version = _run([found, "--version"])
    if code != 0:
        return Check("dotnet", False, f"{found} --version failed: {version[:200]}", fix)
    launcher = _launcher_dir()
    runtime_config = (
        read_json(launcher / "QuantConnect.Lean.Launcher.runtimeconfig.json") if launcher else None
    )
    wanted = ""
    if isinstance(runtime_config, dict):
        framework = (runtime_config.get("runtimeOptions") or {}).get("framework") or {}
        wanted = str(framework.get("version", ""))
    if wanted:
        code, runtimes = _run([found, "--list-runtimes"])
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
    launcher = _launcher_dir()
    fix = "build LEAN (dotnet build QuantConnect.Lean.sln -c Release) and set LEAN_LAUNCHER_DIR to Launcher/bin/Release"
    if launcher is None:
        return Check("launcher", False, "LEAN_LAUNCHER_DIR is not set", fix)
    if not (launcher / LAUNCHER_DLL).is_file():
        return Check("launcher", False, f"{launcher / LAUNCHER_DLL} not found", fix)
    return Check("launcher", True, str(launcher / LAUNCHER_DLL))


def check_algorithm_imports() -> Check:
    """AlgorithmImports.py in the launcher folder (python-additional-paths puts it on sys.path)."""
    launcher = _launcher_dir()
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
    launcher = _launcher_dir()
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


def check_pythonnet() -> Check:
    """PYTHONNET_PYDLL names a libpython of LEAN's Python version that loads."""
    fix = f"set PYTHONNET_PYDLL to a shared libpython{LEAN_PYTHON_VERSION}.so (e.g. /usr/lib/x86_64-linux-gnu/libpython{LEAN_PYTHON_VERSION}.so)"
    path = settings.PYTHONNET_PYDLL
    if not path:
        return Check("PYTHONNET_PYDLL", False, "not set", fix)
    probe = (
        "import ctypes, sys; lib = ctypes.CDLL(sys.argv[1]); lib.Py_GetVersion.restype = ctypes.c_char_p; "
        "print(lib.Py_GetVersion().decode().split()[0])"
    )
    code, output = _run([sys.executable, "-c", probe, path])
    if code != 0:
        return Check("PYTHONNET_PYDLL", False, f"{path} does not load: {output.splitlines()[-1:]}", fix)
    if not output.startswith(f"{LEAN_PYTHON_VERSION}."):
        return Check(
            "PYTHONNET_PYDLL", False, f"{path} is Python {output}, LEAN needs {LEAN_PYTHON_VERSION}", fix
        )
    return Check("PYTHONNET_PYDLL", True, f"{path} (Python {output})")


# LEAN imports pandas when it creates a Python algorithm: AlgorithmPythonWrapper calls SetPandasConverter
# (AlgorithmFactory/Python/Wrappers/AlgorithmPythonWrapper.cs:119-123), whose PandasConverter's static constructor
# runs Py.Import("pandas") (Algorithm/QCAlgorithm.Python.cs:52-55, Common/Python/PandasConverter.cs:38-46), and
# pandas imports numpy; LEAN's image installs both with the pip of the Python of its PYTHONNET_PYDLL
# (DockerfileLeanFoundation:27,31,47-51 at 24863901; tests/fixtures/lean/pandas-import-excerpt.json).
PANDAS_PROBE = (
    "import sys\n"
    "found = [sys.version.split()[0]]\n"
    "for name in ('numpy', 'pandas'):\n"
    "    try:\n"
    "        module = __import__(name)\n"
    "    except Exception as exc:\n"
    "        print(f'{name}: {type(exc).__name__}: {exc}'); sys.exit(3)\n"
    '    found.append(f\'{name} {getattr(module, "__version__", "?")}\')\n'
    "print(', '.join(found))\n"
)


def pythonnet_interpreter_candidates(pydll: str, *, python_home: str = "") -> list[Path]:
    """Where the interpreter of the Python a libpython belongs to lives: <prefix>/bin/python3.X, then python3.

    The prefix is PYTHONHOME when the engine gets one, else the folder above the libpython's lib folder
    (/usr/lib/x86_64-linux-gnu/libpython3.11.so: /usr; /opt/miniconda3/lib/libpython3.11.so: /opt/miniconda3),
    which is where an embedded Python looks for its standard library and site-packages."""
    match = re.search(r"libpython(\d+\.\d+)", Path(pydll).name)
    version = match.group(1) if match else LEAN_PYTHON_VERSION
    prefix: Path | None = Path(python_home.split(os.pathsep)[0]) if python_home else None
    if prefix is None:
        for parent in Path(os.path.abspath(pydll)).parents:
            if parent.name in ("lib", "lib64", "lib32"):
                prefix = parent.parent
                break
    if prefix is None:
        return []
    return [prefix / "bin" / f"python{version}", prefix / "bin" / "python3"]


def check_pandas() -> Check:
    """pandas and numpy import in the Python that PYTHONNET_PYDLL belongs to, run as the engine would run it."""
    name = "pandas and numpy"
    pydll = settings.PYTHONNET_PYDLL
    if not pydll:
        return Check(
            name, False, "PYTHONNET_PYDLL is not set", "set PYTHONNET_PYDLL (see the PYTHONNET_PYDLL check)"
        )
    env = {**engines.engine_environment({"PYTHONNET_PYDLL": pydll}), "PYTHONPATH": str(PROJECT_ROOT)}
    candidates = pythonnet_interpreter_candidates(pydll, python_home=env.get("PYTHONHOME", ""))
    interpreter = next((path for path in candidates if os.access(path, os.X_OK) and path.is_file()), None)
    if interpreter is None:
        looked = ", ".join(str(path) for path in candidates) or "no lib folder above it"
        return Check(
            name,
            False,
            f"no interpreter of the Python of {pydll} ({looked})",
            "install that Python's interpreter, or set PYTHONNET_PYDLL to the libpython of a Python whose "
            "bin/ holds python3.11 with pandas and numpy (LEAN's image: /opt/miniconda3/lib/libpython3.11.so)",
        )
    try:
        done = subprocess.run(
            [str(interpreter), "-c", PANDAS_PROBE],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT * 3,  # a first pandas import compiles its bytecode
            env=env,
            cwd=tempfile.gettempdir(),
        )
        code, output = done.returncode, (done.stdout or done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        code, output = 127, str(exc)
    fix = (
        f"{interpreter} -m pip install pandas numpy (as the engine user; LEAN's image pins pandas 2.3.3 and "
        "numpy 1.26.4, DockerfileLeanFoundation:49-51): LEAN imports pandas when it creates the Python algorithm"
    )
    if code != 0:
        last = output.splitlines()[-1] if output else f"exit {code}"
        return Check(name, False, f"{interpreter} cannot import them: {last[:300]}", fix)
    if not output.startswith(f"{LEAN_PYTHON_VERSION}."):
        return Check(
            name,
            False,
            f"{interpreter} is Python {output.split(',')[0]}, not the {LEAN_PYTHON_VERSION} of {pydll}",
            f"set PYTHONNET_PYDLL to a libpython{LEAN_PYTHON_VERSION} whose prefix holds python{LEAN_PYTHON_VERSION}",
        )
    return Check(name, True, f"{interpreter}: Python {output}")


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
    launcher = _launcher_dir()
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
    launcher = _launcher_dir()
    folder = lean_data_folder(launcher) if launcher else None
    fix = "set LEAN_DATA_FOLDER to LEAN's Data folder (a clone of QuantConnect/Lean has it)"
    if folder is None:
        return Check("data folder", False, "LEAN_DATA_FOLDER and LEAN_LAUNCHER_DIR are not set", fix)
    missing = [name for name in DATA_FILES if not (folder / name).is_file()]
    if missing:
        return Check("data folder", False, f"{folder} lacks {', '.join(missing)}", fix)
    return Check("data folder", True, str(folder))


def ib_gateway_dir(*, tws_dir: str, version: str) -> Path:
    """Where IBAutomater looks for IB Gateway (IBAutomater.cs 1079-1089): on Linux from version 984 on,
    ib-tws-dir with every "Jts" replaced by "ibgateway" (the version is not in the path); before, under
    <ib-tws-dir>/ibgateway/<version>."""
    if int(version) >= 984 and sys.platform.startswith("linux"):
        return Path(tws_dir.replace("Jts", "ibgateway"))
    return Path(tws_dir) / "ibgateway" / version


def check_ib_gateway() -> Check:
    """IB Gateway where IBAutomater will look, with its executable and the JRE its installer recorded."""
    name = "IB Gateway"
    if not settings.IB_TWS_DIR:
        return Check(name, False, "IB_TWS_DIR is not set", "set IB_TWS_DIR, e.g. /home/trader/Jts")
    tws_dir = str(Path(settings.IB_TWS_DIR).expanduser().resolve())
    version = settings.IB_VERSION or IB_DEFAULT_VERSION
    if not version.isdigit():
        return Check(name, False, f"IB_VERSION={version!r} is not a number", "set IB_VERSION, e.g. 1034")
    gateway = ib_gateway_dir(tws_dir=tws_dir, version=version)
    fix = (
        f"install the offline IB Gateway {version} into {gateway} (for version >= 984 IBAutomater takes "
        "IB_TWS_DIR with Jts replaced by ibgateway), or set IB_TWS_DIR/IB_VERSION to match"
    )
    if int(version) >= 984 and "Jts" not in tws_dir:
        return Check(name, False, f"IB_TWS_DIR {tws_dir} has no 'Jts' for IBAutomater to replace", fix)
    if not gateway.is_dir():
        return Check(name, False, f"{gateway} not found (IBAutomater: IbGatewayVersionNotInstalled)", fix)
    if not any((gateway / exe).is_file() for exe in ("ibgateway", "ibgateway1")):
        return Check(name, False, f"{gateway} has no ibgateway executable", fix)
    for cfg in ("pref_jre.cfg", "inst_jre.cfg"):
        path = gateway / ".install4j" / cfg
        if path.is_file():
            jre = path.read_text(encoding="utf-8", errors="replace").replace("\r", "").replace("\n", "")
            if Path(jre).is_dir():
                return Check(name, True, f"{gateway} (version {version}, JRE {jre})")
    return Check(
        name,
        False,
        f"{gateway}/.install4j has no pref_jre.cfg or inst_jre.cfg naming an existing JRE (IBAutomater: JavaNotFound)",
        "reinstall IB Gateway with its bundled JRE",
    )


def check_x_tools() -> Check:
    """Xvfb and pkill on the engine's PATH: IBAutomater.sh runs both at every IB Gateway start (IBAutomater.sh:7-8,16
    at IBAutomater 2.0.91 = 20815f5, tests/fixtures/ibautomater/ibautomater-sh.json)."""
    missing = [program for program in ("Xvfb", "pkill") if shutil.which(program) is None]
    if missing:
        return Check(
            "Xvfb and pkill",
            False,
            f"{' and '.join(missing)} not on PATH (IBAutomater.sh runs them to start IB Gateway)",
            "sudo apt-get install xvfb procps (docs/deploy.md section 2), on the engine user's PATH",
        )
    return Check("Xvfb and pkill", True, f"{shutil.which('Xvfb')}, {shutil.which('pkill')}")


# .NET TimeSpan.Parse's invariant form [-]{d | [d.]hh:mm[:ss[.fffffff]]}: the IB plugin parses
# ib-weekly-restart-utc-time with it (InteractiveBrokersBrokerageFactory.cs:92-96 at d154917) and adds it to
# the next Sunday's date (InteractiveBrokersBrokerage.cs:5607-5611), so it must also be under a day.
TIMESPAN = re.compile(r"^\s*(-)?(?:(\d+)|(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?)\s*$")


def weekly_restart_problem(text: str) -> str:
    """Why LEAN would refuse or misread this ib-weekly-restart-utc-time, or "" when it is a time of day."""
    match = TIMESPAN.match(text)
    if match is None:
        return f"{text!r} is not a .NET TimeSpan (TimeSpan.Parse throws and the engine does not start)"
    negative, days_only, days, hours, minutes, seconds = match.groups()[:6]
    if days_only is not None:
        return f"{text!r} is {days_only} days for TimeSpan.Parse, not a time of day"
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        return f"{text!r} is out of range for TimeSpan.Parse (hours 0-23, minutes and seconds 0-59)"
    if negative or (days and int(days) > 0):
        return f"{text!r} is not a time of day from 00:00:00 to 23:59:59 (it is added to Sunday's date)"
    return ""


def check_weekly_restart() -> Check:
    """IB_WEEKLY_RESTART_UTC_TIME, when set, parses as LEAN's TimeSpan.Parse does and is a time of day."""
    name = "weekly restart time"
    value = settings.IB_WEEKLY_RESTART_UTC_TIME
    if not value:
        return Check(name, True, "not set: the IB plugin's default applies (Sunday UTC)")
    problem = weekly_restart_problem(value)
    if problem:
        return Check(name, False, problem, "set IB_WEEKLY_RESTART_UTC_TIME to HH:MM:SS UTC, e.g. 22:00:00")
    return Check(name, True, f"Sundays at {value.strip()} UTC")


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


CHECKS: tuple[Callable[[], Check], ...] = (
    check_dotnet,
    check_launcher,
    check_algorithm_imports,
    check_ib_plugin,
    check_pythonnet,
    check_pandas,
    check_launcher_writable,
    check_data_folder,
    check_ib_gateway,
    check_x_tools,
    check_weekly_restart,
)


def run_preflight(*, mode: str) -> list[Check]:
    """Every check for a LEAN engine of `mode`, in a fixed order."""
    return [
        *(check() for check in CHECKS),
        check_variables(mode),
        check_engine_folder(mode),
        check_single_lean(mode),
    ]


def record_failed_start(*, mode: str, run_id: str) -> list[str]:
    """Run the preflight after a failed LEAN start and keep its failing lines for the engine state."""
    failing = [check.line() for check in run_preflight(mode=mode) if not check.ok]
    write_json_atomic(
        engines.engine_dir(mode) / engines.PREFLIGHT_FILE, {"run_id": run_id, "failing": failing}
    )
    return failing


def preflight_recorded(*, mode: str, run_id: str) -> bool:
    """Whether the preflight already ran for this failed run."""
    record = read_json(engines.engine_dir(mode) / engines.PREFLIGHT_FILE)
    return isinstance(record, dict) and record.get("run_id") == run_id


def note_failed_start(*, mode: str, state: EngineState) -> None:
    """After a LEAN engine failed (to start or later), keep the preflight's failing lines once per run."""
    if settings.TRADEDESK_ENGINE != "lean" or state.state == "running":
        return
    if not preflight_recorded(mode=mode, run_id=state.run_id):
        record_failed_start(mode=mode, run_id=state.run_id)
