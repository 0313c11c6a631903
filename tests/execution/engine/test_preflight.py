"""`manage.py lean_preflight` against a fake LEAN tree: every check passes on a complete tree and fails, with
its fix, when its one thing is broken.

Layouts checked, from QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4 (AlgorithmImports.py
copied into the launcher build folder by Common/QuantConnect.csproj 58-65; Data/market-hours and
Data/symbol-properties databases; CPython 3.11 per DockerfileLeanFoundation 27) and QuantConnect/IBAutomater
2.0.91 at 20815f591bebf727e5fd0adbc614bd7d3a505e96 (IBAutomater.cs 1079-1089: on Linux, IB Gateway >= 984 lives in
ib-tws-dir with Jts replaced by ibgateway; GetJreInstallPath reads .install4j/pref_jre.cfg or inst_jre.cfg).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from execution.engine import process as engines
from execution.engine.preflight import ib_gateway_dir, run_preflight

LAUNCHER = ("Lean", "Launcher", "bin", "Release")
NAMES = [
    "dotnet",
    "launcher",
    "AlgorithmImports.py",
    "IB plugin",
    "PYTHONNET_PYDLL",
    "data folder",
    "IB Gateway",
    "Xvfb and pkill",
    "weekly restart time",
    "variables",
    "engine folder",
    "one LEAN per host",
]


def libpython() -> str:
    """A loadable libpython3.11 on this machine (the interpreter's own, else Debian's)."""
    candidates = [
        Path(str(sysconfig.get_config_var("LIBDIR"))) / str(sysconfig.get_config_var("INSTSONAME")),
        Path("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"),
    ]
    found = next((str(path) for path in candidates if path.is_file()), "")
    if not found or sys.version_info[:2] != (3, 11):
        pytest.skip("no shared libpython3.11 on this machine")
    return found


@pytest.fixture
def tree(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A complete fake LEAN host: dotnet, a launcher build, data, IB Gateway 1034 and every variable."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dotnet = bin_dir / "dotnet"
    dotnet.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        "  --version) echo 10.0.100 ;;\n"
        "  --list-runtimes) echo 'Microsoft.NETCore.App 10.0.0 [/usr/share/dotnet/shared/Microsoft.NETCore.App]' ;;\n"
        "esac\n"
    )
    dotnet.chmod(0o755)
    for tool in ("Xvfb", "pkill"):
        (bin_dir / tool).write_text("#!/bin/sh\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    launcher = tmp_path.joinpath(*LAUNCHER)
    launcher.mkdir(parents=True)
    for name in (
        "QuantConnect.Lean.Launcher.dll",
        "AlgorithmImports.py",
        "QuantConnect.Brokerages.InteractiveBrokers.dll",
    ):
        (launcher / name).write_text("x")
    (launcher / "QuantConnect.Lean.Launcher.runtimeconfig.json").write_text(
        json.dumps({"runtimeOptions": {"framework": {"name": "Microsoft.NETCore.App", "version": "10.0.0"}}})
    )
    data = tmp_path / "Lean" / "Data"
    for name in (
        "market-hours/market-hours-database.json",
        "symbol-properties/symbol-properties-database.csv",
    ):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text("{}")
    jre = tmp_path / "jre"
    jre.mkdir()
    gateway = tmp_path / "home" / "ibgateway"
    (gateway / ".install4j").mkdir(parents=True)
    (gateway / "ibgateway").write_text("#!/bin/sh\n")
    (gateway / ".install4j" / "pref_jre.cfg").write_text(f"{jre}\n")
    (tmp_path / "home" / "Jts").mkdir()
    settings.TRADEDESK_ENGINE = "lean"
    settings.LEAN_LAUNCHER_CMD = "dotnet QuantConnect.Lean.Launcher.dll"
    settings.LEAN_LAUNCHER_DIR = str(launcher)
    settings.LEAN_DATA_FOLDER = ""
    settings.PYTHONNET_PYDLL = libpython()
    settings.IB_TWS_DIR = str(tmp_path / "home" / "Jts")
    settings.IB_VERSION = "1034"
    settings.IB_WEEKLY_RESTART_UTC_TIME = "22:00:00"
    settings.QC_USER_ID, settings.QC_API_TOKEN, settings.QC_ORGANIZATION_ID = "7", "qc-token", "org"
    settings.IB_LOGINS = {
        mode: {"user_name": f"{mode}user", "password": "pw", "account": "DU1"} for mode in engines.MODES
    }
    return tmp_path


def results(mode: str = "paper") -> dict[str, bool]:
    return {check.name: check.ok for check in run_preflight(mode=mode)}


def test_every_check_passes_on_a_complete_tree(tree: Path) -> None:
    out = StringIO()
    call_command("lean_preflight", "--mode", "live", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [f"ok   {name}" for name in NAMES]
    assert "10.0.100" in lines[0] and str(tree / "home" / "ibgateway") in lines[6]
    assert "Sundays at 22:00:00 UTC" in lines[8]


@pytest.fixture
def other_lean_engine(tree: Path) -> Iterator[None]:
    """A live LEAN engine of this install running on this host (its pid file and a live process)."""
    folder = engines.engine_dir("live")
    folder.mkdir(parents=True)
    marker = str((folder / "config.json").resolve())
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    (folder / "engine.pid").write_text(
        json.dumps({"pid": proc.pid, "run_id": "r-live", "command": ["dotnet"]})
    )
    yield
    proc.kill()
    proc.wait()


def _remove(*parts: str) -> Callable[[Path, Any], None]:
    return lambda tree, settings: tree.joinpath(*parts).unlink()


def _block_execution_root(tree: Path, settings: Any) -> None:
    """An execution root below a regular file cannot be created (root ignores permission bits)."""
    (tree / "blocked").write_text("a file")
    settings.TRADEDESK_EXECUTION_ROOT = tree / "blocked" / "root"


def _only_tree_path(tree: Path, settings: Any, drop: str) -> None:
    """The engine's PATH holds only the tree's bin folder, without `drop`."""
    (tree / "bin" / drop).unlink()
    os.environ["PATH"] = str(tree / "bin")


BREAKERS: list[tuple[str, Callable[[Path, Any], None], str]] = [
    ("dotnet", lambda tree, s: setattr(s, "LEAN_LAUNCHER_CMD", "no-such-dotnet x.dll"), "not on PATH"),
    (
        "dotnet",
        lambda tree, s: tree.joinpath(*LAUNCHER, "QuantConnect.Lean.Launcher.runtimeconfig.json").write_text(
            json.dumps({"runtimeOptions": {"framework": {"version": "11.0.0"}}})
        ),
        "no Microsoft.NETCore.App 11.x runtime",
    ),
    ("launcher", _remove(*LAUNCHER, "QuantConnect.Lean.Launcher.dll"), "not found"),
    ("AlgorithmImports.py", _remove(*LAUNCHER, "AlgorithmImports.py"), "not found"),
    ("IB plugin", _remove(*LAUNCHER, "QuantConnect.Brokerages.InteractiveBrokers.dll"), "not found"),
    ("PYTHONNET_PYDLL", lambda tree, s: setattr(s, "PYTHONNET_PYDLL", ""), "not set"),
    (
        "PYTHONNET_PYDLL",
        lambda tree, s: setattr(s, "PYTHONNET_PYDLL", str(tree.joinpath(*LAUNCHER, "AlgorithmImports.py"))),
        "does not load",
    ),
    (
        "data folder",
        _remove("Lean", "Data", "market-hours", "market-hours-database.json"),
        "lacks market-hours",
    ),
    (
        "IB Gateway",
        lambda tree, s: (tree / "home" / "ibgateway").rename(tree / "home" / "Jts" / "ibgateway"),
        "IbGatewayVersionNotInstalled",
    ),
    ("IB Gateway", _remove("home", "ibgateway", ".install4j", "pref_jre.cfg"), "JavaNotFound"),
    (
        "IB Gateway",
        lambda tree, s: setattr(s, "IB_TWS_DIR", str(tree / "home" / "IBGateway-home")),
        "no 'Jts'",
    ),
    ("Xvfb and pkill", lambda tree, s: _only_tree_path(tree, s, "Xvfb"), "Xvfb not on PATH"),
    ("Xvfb and pkill", lambda tree, s: _only_tree_path(tree, s, "pkill"), "pkill not on PATH"),
    (
        "weekly restart time",
        lambda t, s: setattr(s, "IB_WEEKLY_RESTART_UTC_TIME", "10pm"),
        "not a .NET TimeSpan",
    ),
    ("weekly restart time", lambda t, s: setattr(s, "IB_WEEKLY_RESTART_UTC_TIME", "22"), "22 days"),
    (
        "weekly restart time",
        lambda t, s: setattr(s, "IB_WEEKLY_RESTART_UTC_TIME", "24:00:00"),
        "out of range",
    ),
    ("weekly restart time", lambda t, s: setattr(s, "IB_WEEKLY_RESTART_UTC_TIME", "1.02:00"), "time of day"),
    ("variables", lambda tree, s: setattr(s, "QC_API_TOKEN", ""), "missing QC_API_TOKEN"),
    ("variables", lambda tree, s: setattr(s, "IB_TWS_DIR", ""), "missing IB_TWS_DIR"),
    ("engine folder", lambda tree, s: _block_execution_root(tree, s), "blocked"),
]


@pytest.mark.parametrize(("name", "breaker", "detail"), BREAKERS, ids=[f"{b[0]}-{b[2]}" for b in BREAKERS])
def test_each_check_fails_with_its_fix(
    tree: Path, settings: Any, name: str, breaker: Callable[[Path, Any], None], detail: str
) -> None:
    breaker(tree, settings)
    checks = {check.name: check for check in run_preflight(mode="paper")}
    failed = [check for check in checks.values() if not check.ok]
    assert name in [check.name for check in failed], [c.line() for c in failed]
    assert detail in checks[name].detail and checks[name].fix
    if name != "variables" or "IB_TWS_DIR" not in detail:  # an unset IB_TWS_DIR fails the gateway too
        assert [check.name for check in failed] == [name]
    out = StringIO()
    with pytest.raises(CommandError, match=name.replace(".", r"\.")):
        call_command("lean_preflight", stdout=out)
    assert checks[name].line() in out.getvalue().splitlines()


def test_another_lean_engine_on_the_host_fails_the_check(tree: Path, other_lean_engine: None) -> None:
    assert results("paper") == {**dict.fromkeys(NAMES, True), "one LEAN per host": False}
    # The live engine's own host check does not count itself.
    assert results("live")["one LEAN per host"] is True


def test_ib_gateway_folder_follows_ibautomater() -> None:
    assert ib_gateway_dir(tws_dir="/home/t/Jts", version="1034") == Path("/home/t/ibgateway")
    assert ib_gateway_dir(tws_dir="/home/t/Jts", version="981") == Path("/home/t/Jts/ibgateway/981")


def test_the_plugin_parses_the_weekly_restart_with_timespan_and_adds_it_to_sunday() -> None:
    excerpt = json.loads(
        (
            Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "ib-weekly-restart-excerpt.json"
        ).read_text()
    )
    text = "\n".join(line for e in excerpt["excerpts"] for line in e["text"])
    assert "weeklyRestartUtcTime = TimeSpan.Parse(weeklyRestartUtcTimeStr);" in text
    assert "return nextSunday.Date.Add(weeklyRestartUtcTimeOfDay);" in text
    assert "var productId = 181;" in text and "Environment.Exit(1);" in text
