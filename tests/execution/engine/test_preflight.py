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
from execution.engine.preflight import (
    check_launcher_writable,
    check_pandas,
    ib_gateway_dir,
    pythonnet_interpreter_candidates,
    run_preflight,
    writable_by,
)

LAUNCHER = ("Lean", "Launcher", "bin", "Release")
NAMES = [
    "dotnet",
    "launcher",
    "AlgorithmImports.py",
    "algorithm file",
    "IB plugin",
    "PYTHONNET_PYDLL",
    "pandas and numpy",
    "launcher writable",
    "data folder",
    "IB Gateway",
    "Xvfb and pkill",
    "weekly restart time",
    "variables",
    "engine folder",
    "one LEAN per host",
]


def fake_python(tree: Path) -> str:
    """A Python prefix for PYTHONNET_PYDLL: lib/ links the real libpython, bin/python3.11 is a fake interpreter
    (this one, with a site folder of fake numpy and pandas first on its path); the libpython in lib/."""
    prefix = tree / "python"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "bin").mkdir()
    lib = prefix / "lib" / "libpython3.11.so"
    lib.symlink_to(libpython())
    for module, version in (("numpy", "1.26.4"), ("pandas", "2.3.3")):
        (prefix / "site" / module).mkdir(parents=True)
        (prefix / "site" / module / "__init__.py").write_text(f"__version__ = {version!r}\n")
    interpreter = prefix / "bin" / "python3.11"
    interpreter.write_text(f'#!/bin/sh\nPYTHONPATH={prefix / "site"} exec {sys.executable} "$@"\n')
    interpreter.chmod(0o755)
    return str(lib)


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
    settings.PYTHONNET_PYDLL = fake_python(tmp_path)
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
    assert "10.0.100" in lines[0] and str(tree / "home" / "ibgateway") in lines[NAMES.index("IB Gateway")]
    assert "Sundays at 22:00:00 UTC" in lines[NAMES.index("weekly restart time")]
    pandas = lines[NAMES.index("pandas and numpy")]
    assert "numpy 1.26.4, pandas 2.3.3" in pandas and str(tree / "python" / "bin" / "python3.11") in pandas
    assert "modules of tradedesk_algorithm/" in lines[NAMES.index("algorithm file")]


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


def _fake_pandas_breaks(tree: Path, settings: Any) -> None:
    """pandas is not installed in PYTHONNET_PYDLL's Python."""
    (tree / "python" / "site" / "pandas" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pandas'\")\n"
    )


def _no_interpreter(tree: Path, settings: Any) -> None:
    """The libpython's prefix has no bin/python3.11 (nor python3)."""
    (tree / "python" / "bin" / "python3.11").unlink()


def _other_interpreter(tree: Path, settings: Any) -> None:
    """bin/python3.11 is some other Python (a 3.10 left behind)."""
    (tree / "python" / "bin" / "python3.11").write_text(
        "#!/bin/sh\necho '3.10.12, numpy 1.21.5, pandas 1.3.5'\n"
    )


def _read_only_launcher(tree: Path, settings: Any) -> None:
    """The launcher folder without write permission (the bits count, root or not)."""
    tree.joinpath(*LAUNCHER).chmod(0o555)


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
    ("pandas and numpy", _fake_pandas_breaks, "cannot import them: pandas: ModuleNotFoundError"),
    ("pandas and numpy", _no_interpreter, "no interpreter of the Python of"),
    ("pandas and numpy", _other_interpreter, "is Python 3.10.12, not the 3.11"),
    ("launcher writable", _read_only_launcher, "is not writable by"),
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
    if name == "PYTHONNET_PYDLL":  # no libpython, no interpreter of its Python either
        assert [check.name for check in failed] == [name, "pandas and numpy"]
    elif name != "variables" or "IB_TWS_DIR" not in detail:  # an unset IB_TWS_DIR fails the gateway too
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


def test_the_interpreter_is_found_from_the_libpython_prefix_or_pythonhome() -> None:
    assert pythonnet_interpreter_candidates("/usr/lib/x86_64-linux-gnu/libpython3.11.so") == [
        Path("/usr/bin/python3.11"),
        Path("/usr/bin/python3"),
    ]
    assert pythonnet_interpreter_candidates("/opt/miniconda3/lib/libpython3.11.so")[0] == Path(
        "/opt/miniconda3/bin/python3.11"
    )
    assert pythonnet_interpreter_candidates("/x/lib/libpython3.11.so", python_home="/opt/py")[0] == Path(
        "/opt/py/bin/python3.11"
    )
    assert pythonnet_interpreter_candidates("/nowhere/libpython3.11.so") == []


def test_the_pandas_probe_runs_with_the_engine_environment(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PYTHONHOME reaches the engine (and so the probe): its interpreter is the one asked."""
    home = tree / "home-python"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "python3.11").write_text(
        '#!/bin/sh\necho "numpy: ImportError: home $PYTHONHOME"; exit 3\n'
    )
    (home / "bin" / "python3.11").chmod(0o755)
    monkeypatch.setenv("PYTHONHOME", str(home))
    check = check_pandas()
    assert not check.ok
    assert (
        f"{home / 'bin' / 'python3.11'} cannot import them: numpy: ImportError: home {home}" in check.detail
    )
    assert "-m pip install pandas numpy" in check.fix


def test_a_launcher_folder_the_engine_unit_cannot_write_fails(settings: Any) -> None:
    settings.LEAN_LAUNCHER_DIR = "/usr/lib"
    check = check_launcher_writable()
    assert not check.ok and "ProtectSystem=full" in check.detail and "/opt/Lean" in check.fix


def test_write_permission_is_read_from_the_bits_for_the_engine_user(tmp_path: Path) -> None:
    folder = tmp_path / "launcher"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    info = folder.stat()
    assert writable_by(folder, uid=info.st_uid, gids=set())
    assert not writable_by(folder, uid=info.st_uid + 12345, gids={info.st_gid})
    folder.chmod(0o770)
    assert writable_by(folder, uid=info.st_uid + 12345, gids={info.st_gid})
    assert not writable_by(folder, uid=info.st_uid + 12345, gids=set())


def test_lean_imports_pandas_in_the_python_of_its_pydll() -> None:
    """LEAN's own image: PYTHONNET_PYDLL's prefix is the Python whose pip installs pandas and numpy, which is the
    interpreter the check runs (tests/fixtures/lean/pandas-import-excerpt.json, Lean@24863901)."""
    excerpt = json.loads(
        (Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "pandas-import-excerpt.json").read_text()
    )
    text = {e["path"].rsplit("/", 1)[-1]: "\n".join(e["text"]) for e in excerpt["excerpts"]}
    assert "dynAlgorithm.SetPandasConverter();" in text["AlgorithmPythonWrapper.cs"]
    assert "PandasConverter = new PandasConverter();" in text["QCAlgorithm.Python.cs"]
    assert 'Py.Import("pandas")' in text["PandasConverter.cs"]
    dockerfile = text["DockerfileLeanFoundation"]
    pydll = dockerfile.split('PYTHONNET_PYDLL="', 1)[1].split('"', 1)[0]
    assert 'PATH="/opt/miniconda3/bin:' in dockerfile and "pandas==" in dockerfile and "numpy==" in dockerfile
    assert pythonnet_interpreter_candidates(pydll)[0] == Path("/opt/miniconda3/bin/python3.11")
