"""Secrets stay where the docs say: LEAN logs only to the supervised (masked) stdout, the engine runs with
umask 077, and a clear-text IBAutomater.json a killed run leaves is removed by the supervisor.

IBAutomater 2.0.91 (20815f5) writes IBAutomater.json beside its assembly with the IB user and password and
deletes it only in Dispose (IBAutomater.cs:1173-1175,1209-1216,203-215); LEAN's default CompositeLogHandler
also writes log.txt into the cwd (Launcher/config.json:35, CompositeLogHandler.cs:27-33, Initializer.cs:42-48
at 24863901): tests/fixtures/lean/secrets-excerpt.json.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from execution.engine.config import PROJECT_ROOT
from execution.engine.supervise import IBAUTOMATER_CONFIG
from tests.execution.engine.test_lean_config import PASSWORD, lean_settings, write_config  # noqa: F401
from tests.waiting import wait_for

EXCERPT = PROJECT_ROOT / "tests" / "fixtures" / "lean" / "secrets-excerpt.json"

# A fake LEAN: prints the password (masked by the supervisor), writes a file of its own, leaves an
# IBAutomater.json in the launcher folder as IBAutomater does, and dies without a clean stop.
FAKE_LEAN = """
import json, pathlib, sys
config = json.loads(pathlib.Path(sys.argv[1]).read_text())
print("login with", config["ib-password"], flush=True)
pathlib.Path("own-output.txt").write_text("x")
pathlib.Path(config["composer-dll-directory"], "IBAutomater.json").write_text(
    config["ib-user-name"] + "\\n" + config["ib-password"] + "\\n")
sys.exit(int(sys.argv[2]))
"""


def _excerpt_text(path: str) -> str:
    excerpts = json.loads(EXCERPT.read_text())["excerpts"]
    return "\n".join(line for e in excerpts if e["path"] == path for line in e["text"])


def test_the_excerpts_say_where_the_secrets_go() -> None:
    ibautomater = _excerpt_text("QuantConnect.IBAutomater/IBAutomater.cs")
    assert 'Path.Combine(jarPath, "IBAutomater.json")' in ibautomater
    assert "{_userName}\\n{_password}" in ibautomater
    assert "UpdateIbGatewayConfiguration(GetIbGatewayVersionPath(), false, false);" in ibautomater
    assert '"log-handler": "QuantConnect.Logging.CompositeLogHandler"' in _excerpt_text(
        "Launcher/config.json"
    )
    assert "new FileLogHandler()" in _excerpt_text("Logging/CompositeLogHandler.cs")
    assert "_trace = Console.Out;" in _excerpt_text("Logging/ConsoleLogHandler.cs")


def test_lean_logs_to_the_console_only(lean_settings: Any, tmp_path: Path) -> None:  # noqa: F811
    _, config = write_config(tmp_path / "engine")
    assert config["log-handler"] == "QuantConnect.Logging.ConsoleLogHandler"


def _supervise(workdir: Path, script: Path, exit_code: int) -> dict[str, Any]:
    result = subprocess.run(
        [
            *(
                sys.executable,
                "-m",
                "execution.engine.supervise",
                "--workdir",
                str(workdir),
                "--run-id",
                "r-1",
            ),
            *("--", sys.executable, str(script), str(workdir / "config.json"), str(exit_code)),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert wait_for(lambda: (workdir / "engine.exit.json").exists(), timeout=20)
    return dict(json.loads((workdir / "engine.exit.json").read_text()))


@pytest.fixture
def engine(tmp_path: Path) -> tuple[Path, Path, Path]:
    workdir = tmp_path / "engine"
    launcher = tmp_path / "launcher"
    workdir.mkdir()
    launcher.mkdir()
    config = {"composer-dll-directory": str(launcher), "ib-user-name": "paperuser", "ib-password": PASSWORD}
    (workdir / "config.json").write_text(json.dumps(config))
    script = tmp_path / "fake_lean.py"
    script.write_text(FAKE_LEAN)
    return workdir, launcher, script


def test_an_unclean_exit_leaves_no_ibautomater_json_and_the_log_is_masked(
    engine: tuple[Path, Path, Path],
) -> None:
    workdir, launcher, script = engine
    record = _supervise(workdir, script, 1)
    assert record["exit_code"] == 1
    assert not (launcher / IBAUTOMATER_CONFIG).exists()
    log = (workdir / "engine.log").read_text()
    assert PASSWORD not in log
    assert "login with ********" in log
    assert f"removed {launcher / IBAUTOMATER_CONFIG}" in log


def test_the_engine_runs_with_umask_077(engine: tuple[Path, Path, Path]) -> None:
    workdir, _, script = engine
    _supervise(workdir, script, 0)
    assert stat.S_IMODE((workdir / "own-output.txt").stat().st_mode) == 0o600


# A fake LEAN in setup: it ignores SIGINT (as LEAN does before the algorithm runs), starts a stand-in for IB
# Gateway in its process group, leaves IBAutomater.json and never writes its `started` line.
FAKE_LEAN_IN_SETUP = """
import json, pathlib, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
config = json.loads(pathlib.Path(sys.argv[sys.argv.index("--config") + 1]).read_text())
gateway = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
pathlib.Path("gateway.pid").write_text(str(gateway.pid))
pathlib.Path(config["composer-dll-directory"], "IBAutomater.json").write_text("user\\\\npassword\\\\n")
print("waiting for 2FA", flush=True)
while True:
    time.sleep(0.1)
"""


@pytest.mark.django_db
def test_a_stop_during_setup_terminates_at_once_and_cleans_up_the_gateway(
    lean_settings: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    from execution.engine import process as engines
    from execution.engine.state import pid_alive

    script = tmp_path / "fake_lean_setup.py"
    script.write_text(FAKE_LEAN_IN_SETUP)
    lean_settings.TRADEDESK_EXECUTION_ROOT = tmp_path / "root"
    lean_settings.LEAN_LAUNCHER_CMD = f"{sys.executable} {script}"
    engines.engine_start("paper")
    folder = engines.engine_folder("paper")
    assert wait_for(lambda: (folder.path / "gateway.pid").exists(), timeout=20)
    gateway = int((folder.path / "gateway.pid").read_text())
    launcher = Path(lean_settings.LEAN_LAUNCHER_DIR)
    assert (launcher / IBAUTOMATER_CONFIG).exists()
    assert not engines.run_started("paper", str(engines.running_engine("paper")["run_id"]))

    state = engines.stop_engine("paper", timeout=600)

    # No SIGINT the engine would swallow: SIGTERM first.
    stop = json.loads((folder.path / engines.STOP_FILE).read_text())
    assert stop["signals"][0] == "SIGTERM"
    assert state.state != "running"
    assert wait_for(lambda: not pid_alive(gateway, ""), timeout=10)
    assert not (launcher / IBAUTOMATER_CONFIG).exists()
