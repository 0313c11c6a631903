"""The LEAN launch config: LEAN's own key names, absolute paths, mode 0600, and secrets nowhere else.

LEAN facts from QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4 and
QuantConnect/Lean.Brokerages.InteractiveBrokers at d154917dc6ec7fa99f2e588d3f5146c3b73b6344:
- job-user-id, api-access-token, job-organization-id feed Globals.UserId/UserToken/OrganizationID
  (Common/Globals.cs 95-98); the IB brokerage's ValidateSubscription (InteractiveBrokersBrokerage.cs 1400,
  5751-5874) exits the process when they do not authenticate.
- python-additional-paths: PythonInitializer.ConfigurePythonPaths (Common/Python/PythonInitializer.cs
  316-320) adds only the cwd and these; AlgorithmImports.py is in the launcher build folder only
  (Common/QuantConnect.csproj 58-65).
- ib-tws-dir defaults to C:\\Jts (InteractiveBrokersBrokerageFactory.cs 76).
- close-automatically: Queues/JobQueue.cs 294 waits on Console.Read() without it.
"""

from __future__ import annotations

import json
import logging
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from execution.actions import order_dispatch
from execution.engine import process as engines
from execution.engine.config import (
    ALGORITHM_FILE,
    ALGORITHM_TYPE_NAME,
    EngineConfigError,
    build_execution_config,
    engine_command,
)
from orders.models import OrderStatus, TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory

EXCERPT = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "launcher-config-excerpt.json"
PASSWORD = "pw-Sekr1t!paper"
LIVE_PASSWORD = "pw-Sekr1t!live"
QC_TOKEN = "qc-T0ken-Sekr1t-0123456789abcdef"
SECRETS = (PASSWORD, LIVE_PASSWORD, QC_TOKEN)

# Keys tradedesk writes that are not in LEAN's Launcher/config.json, and why.
DOCUMENTED_EXCEPTIONS: dict[str, str] = {
    "close-automatically": "read with Config.GetBool by Queues/JobQueue.cs 294 (also a launcher argument, "
    "Configuration/LeanArgumentParser.cs 40); Launcher/config.json does not list it",
}
# Keys the simulator's config adds to LEAN's shape: its own settings section.
SIMULATOR_EXCEPTIONS = {"simulator": "the simulator engine's own settings; LEAN never reads this config"}

REQUIRED = {
    "environment",
    "algorithm-type-name",
    "algorithm-language",
    "algorithm-location",
    "data-folder",
    "composer-dll-directory",
    "parameters",
    "live-mode",
    "live-mode-brokerage",
    "data-queue-handler",
    "setup-handler",
    "result-handler",
    "data-feed-handler",
    "real-time-handler",
    "transaction-handler",
    "history-provider",
    "ib-account",
    "ib-user-name",
    "ib-password",
    "ib-trading-mode",
    "ib-host",
    "ib-port",
    "ib-agent-description",
    "ib-tws-dir",
    "job-user-id",
    "api-access-token",
    "job-organization-id",
    "python-additional-paths",
    "close-automatically",
}
ABSOLUTE_PATH_KEYS = ("algorithm-location", "data-folder", "composer-dll-directory", "ib-tws-dir")


def excerpt() -> dict[str, Any]:
    data = json.loads(EXCERPT.read_text(encoding="utf-8"))
    assert data["_source"]["repository"] == "QuantConnect/Lean"
    assert data["_source"]["path"] == "Launcher/config.json"
    return data


def lean_keys() -> set[str]:
    """Top-level keys of LEAN's config plus those of its live-interactive environment block."""
    data = excerpt()
    top = set(data) - {"_source", "environments"}
    return top | set(data["environments"]["live-interactive"])


@pytest.fixture
def lean_settings(settings: Any, tmp_path: Path) -> Any:
    launcher = tmp_path / "Lean" / "Launcher" / "bin" / "Release"
    launcher.mkdir(parents=True)
    (tmp_path / "Lean" / "Data").mkdir()
    settings.TRADEDESK_ENGINE = "lean"
    settings.LEAN_LAUNCHER_DIR = str(launcher)
    settings.LEAN_LAUNCHER_CMD = "dotnet QuantConnect.Lean.Launcher.dll"
    settings.LEAN_DATA_FOLDER = ""
    settings.PYTHONNET_PYDLL = "/usr/lib/x86_64-linux-gnu/libpython3.11.so"
    settings.IB_HOST = "127.0.0.1"
    settings.IB_PORT = 4002
    settings.IB_TWS_DIR = str(tmp_path / "Jts")
    settings.IB_VERSION = "1030"
    settings.IB_WEEKLY_RESTART_UTC_TIME = "22:00:00"
    settings.IB_AGENT_DESCRIPTION = "I"
    settings.QC_USER_ID = "123456"
    settings.QC_API_TOKEN = QC_TOKEN
    settings.QC_ORGANIZATION_ID = "org-abc"
    settings.IB_LOGINS = {
        "paper": {"user_name": "paperuser", "password": PASSWORD, "account": "DU1234567"},
        "live": {"user_name": "liveuser", "password": LIVE_PASSWORD, "account": "U7654321"},
    }
    return settings


def write_config(
    workdir: Path, mode: str = "paper", intent: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    path = build_execution_config(mode=mode, workdir=workdir, run_id="r-test-1", intent_path=intent)
    return path, json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------
# Key names and values
# ---------------------------------------------------------------------------------------------------------


def test_the_excerpt_is_leans_current_list() -> None:
    keys = lean_keys()
    # The current Launcher/config.json has ib-trading-mode (older copies a search returns lack it).
    assert {"ib-trading-mode", "ib-weekly-restart-utc-time", "ib-version"} <= keys
    block = excerpt()["environments"]["live-interactive"]
    assert block["live-mode-brokerage"] == "InteractiveBrokersBrokerage"
    assert block["data-queue-handler"] == ["InteractiveBrokersBrokerage"]


def test_every_key_written_is_one_of_leans(lean_settings: Any, tmp_path: Path) -> None:
    _, config = write_config(tmp_path / "engine")
    unknown = set(config) - lean_keys() - set(DOCUMENTED_EXCEPTIONS)
    assert not unknown, f"keys LEAN's Launcher/config.json does not know: {sorted(unknown)}"
    assert not REQUIRED - set(config), sorted(REQUIRED - set(config))
    assert {"ib-version", "ib-weekly-restart-utc-time"} <= set(config)


def test_quantconnect_credentials_for_the_subscription_check(lean_settings: Any, tmp_path: Path) -> None:
    _, config = write_config(tmp_path / "engine")
    # LEAN reads job-user-id with Config.GetInt: a digit string, as in Launcher/config.json ("0").
    assert (config["job-user-id"], config["api-access-token"], config["job-organization-id"]) == (
        "123456",
        QC_TOKEN,
        "org-abc",
    )


def test_algorithm_imports_found_through_python_additional_paths(lean_settings: Any, tmp_path: Path) -> None:
    _, config = write_config(tmp_path / "engine")
    launcher = str(Path(lean_settings.LEAN_LAUNCHER_DIR).resolve())
    assert config["python-additional-paths"] == [launcher]
    # cwd stays the engine folder (FileCommandHandler reads command files from it): only the path is added.
    command, _ = engine_command(tmp_path / "engine" / "config.json")
    assert "--config" in command and str(tmp_path / "engine" / "config.json") in command


def test_lean_closes_automatically(lean_settings: Any, tmp_path: Path) -> None:
    _, config = write_config(tmp_path / "engine")
    assert config["close-automatically"] is True


def test_values_for_a_live_python_algorithm_on_ib(lean_settings: Any, tmp_path: Path) -> None:
    _, config = write_config(tmp_path / "engine")
    block = excerpt()["environments"]["live-interactive"]
    assert config["environment"] == "live-interactive"
    assert config["algorithm-language"] == "Python"
    assert config["algorithm-type-name"] == ALGORITHM_TYPE_NAME == "ManualOrderExecution"
    assert f"class {ALGORITHM_TYPE_NAME}(QCAlgorithm)" in ALGORITHM_FILE.read_text(encoding="utf-8")
    for key, value in block.items():
        assert config[key] == value, key  # the live-interactive block, flattened
    assert config["ib-trading-mode"] == "paper"
    assert (config["ib-account"], config["ib-user-name"]) == ("DU1234567", "paperuser")
    assert config["ib-port"] == "4002"  # LEAN's config gives it as a string (Config.GetInt parses it)
    assert config["ib-weekly-restart-utc-time"] == "22:00:00"
    assert config["parameters"]["run-id"] == "r-test-1"
    assert all(isinstance(v, str) for v in config["parameters"].values())  # LEAN parameters are strings


def test_each_mode_uses_its_own_ib_login(lean_settings: Any, tmp_path: Path) -> None:
    _, paper = write_config(tmp_path / "paper", "paper")
    _, live = write_config(tmp_path / "live", "live")
    assert (paper["ib-trading-mode"], paper["ib-user-name"], paper["ib-password"]) == (
        "paper",
        "paperuser",
        PASSWORD,
    )
    assert (live["ib-trading-mode"], live["ib-user-name"], live["ib-password"]) == (
        "live",
        "liveuser",
        LIVE_PASSWORD,
    )


def test_paths_are_absolute_since_leans_cwd_is_the_engine_folder(
    lean_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lean_settings.LEAN_LAUNCHER_DIR = "Lean/Launcher/bin/Release"  # relative settings are resolved
    lean_settings.IB_TWS_DIR = "Jts"
    intent = tmp_path / "engine" / "intents" / "oi_1.json"
    _, config = write_config(Path("engine"), intent=intent)
    for key in ABSOLUTE_PATH_KEYS:
        assert Path(config[key]).is_absolute(), key
    for key in ("intent-file", "events-file"):
        assert Path(config["parameters"][key]).is_absolute(), key
    assert Path(config["algorithm-location"]) == ALGORITHM_FILE and ALGORITHM_FILE.is_file()
    assert config["composer-dll-directory"] == str(tmp_path / "Lean" / "Launcher" / "bin" / "Release")
    # LEAN's own default data-folder is ../../../Data/ from its build folder.
    assert config["data-folder"] == str(tmp_path / "Lean" / "Data")
    assert config["parameters"]["events-file"] == str(tmp_path / "engine" / "events.jsonl")


def test_lean_data_folder_setting_wins(lean_settings: Any, tmp_path: Path) -> None:
    lean_settings.LEAN_DATA_FOLDER = str(tmp_path / "data")
    _, config = write_config(tmp_path / "engine")
    assert config["data-folder"] == str(tmp_path / "data")


def test_optional_ib_keys_are_left_out_when_not_set(lean_settings: Any, tmp_path: Path) -> None:
    lean_settings.IB_VERSION = ""
    lean_settings.IB_WEEKLY_RESTART_UTC_TIME = ""
    _, config = write_config(tmp_path / "engine")
    assert not {"ib-version", "ib-weekly-restart-utc-time"} & set(config)
    assert config["ib-tws-dir"] == str(tmp_path / "Jts")  # required, never LEAN's C:\Jts default


def test_config_file_is_mode_0600(lean_settings: Any, tmp_path: Path) -> None:
    path, _ = write_config(tmp_path / "engine")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path, _ = write_config(tmp_path / "engine")  # rewritten for the next run: still 0600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


FULL_LOGIN = {"user_name": "u", "password": "p", "account": "DU1"}


@pytest.mark.parametrize(
    ("login", "unset", "named"),
    [
        ({}, {}, ["IB_PAPER_USER_NAME", "IB_PAPER_PASSWORD", "IB_PAPER_ACCOUNT"]),
        ({"user_name": "u", "account": "DU1"}, {}, ["IB_PAPER_PASSWORD"]),
        (FULL_LOGIN, {"LEAN_LAUNCHER_DIR": ""}, ["LEAN_LAUNCHER_DIR"]),
        (FULL_LOGIN, {"IB_TWS_DIR": ""}, ["IB_TWS_DIR"]),
        (
            FULL_LOGIN,
            {"QC_USER_ID": "", "QC_API_TOKEN": "", "QC_ORGANIZATION_ID": ""},
            ["QC_USER_ID", "QC_API_TOKEN", "QC_ORGANIZATION_ID"],
        ),
        (FULL_LOGIN, {"QC_API_TOKEN": ""}, ["QC_API_TOKEN"]),
        (FULL_LOGIN, {"QC_USER_ID": "alice"}, ["QC_USER_ID"]),  # LEAN's Config.GetInt: not a number = unset
    ],
)
def test_missing_settings_name_the_variables(
    lean_settings: Any, tmp_path: Path, login: dict[str, str], unset: dict[str, str], named: list[str]
) -> None:
    lean_settings.IB_LOGINS = {"paper": login, "live": {}}
    for name, value in unset.items():
        setattr(lean_settings, name, value)
    with pytest.raises(EngineConfigError) as excinfo:
        write_config(tmp_path / "engine")
    message = str(excinfo.value)
    assert re.findall(r"[A-Z][A-Z_]+[A-Z]", message.split(" needs ", 1)[1]) == named
    assert not any(secret in message for secret in SECRETS)
    assert not (tmp_path / "engine" / "config.json").exists()


def test_web_hosts_need_no_lean_secrets(settings: Any, tmp_path: Path) -> None:
    # Settings load without QC_/IB_ variables; only building a LEAN engine's config asks for them.
    settings.TRADEDESK_ENGINE = "simulator"
    settings.QC_API_TOKEN = settings.QC_USER_ID = settings.QC_ORGANIZATION_ID = ""
    _, config = write_config(tmp_path / "engine")
    assert config["environment"] == "live-paper"


def test_simulator_config_says_live_paper(settings: Any, tmp_path: Path) -> None:
    settings.TRADEDESK_ENGINE = "simulator"
    path, config = write_config(tmp_path / "engine")
    assert config["environment"] == "live-paper"
    assert config["live-mode-brokerage"] == "PaperBrokerage"
    assert config["algorithm-type-name"] == "ManualOrderExecution"
    unknown = set(config) - lean_keys() - {"live-mode-brokerage"} - set(SIMULATOR_EXCEPTIONS)
    assert not unknown, sorted(unknown)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------------------
# The launch command
# ---------------------------------------------------------------------------------------------------------


def test_engine_command_runs_the_launcher_dll_with_the_config(lean_settings: Any, tmp_path: Path) -> None:
    path, _ = write_config(tmp_path / "engine")
    command, env = engine_command(path)
    launcher = Path(lean_settings.LEAN_LAUNCHER_DIR).resolve()
    assert command == ["dotnet", str(launcher / "QuantConnect.Lean.Launcher.dll"), "--config", str(path)]
    assert env == {"PYTHONNET_PYDLL": lean_settings.PYTHONNET_PYDLL}
    assert PASSWORD not in " ".join(command) + json.dumps(env)


# ---------------------------------------------------------------------------------------------------------
# Secrets during a dispatch
# ---------------------------------------------------------------------------------------------------------


def _no_secret_anywhere(root: Path, *texts: str) -> None:
    """No file under the execution root but config.json, and none of the texts, holds an IB or QC secret."""
    for path in root.rglob("*"):
        if path.is_file() and path.name != "config.json":
            data = path.read_bytes()
            assert not any(secret.encode() in data for secret in SECRETS), path
    for text in texts:
        assert not any(secret in text for secret in SECRETS)


@pytest.mark.django_db
def test_a_dispatch_keeps_the_password_in_the_config_only(
    lean_settings: Any,
    execution_root: Path,
    caplog: pytest.LogCaptureFixture,
    client: Any,
    admin_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QC_API_TOKEN", QC_TOKEN)  # as on an engine host: the engine must not inherit it
    monkeypatch.setenv("IB_PAPER_PASSWORD", PASSWORD)
    # A stand-in for `dotnet QuantConnect.Lean.Launcher.dll`: a process that stays up like LEAN would.
    lean_settings.LEAN_LAUNCHER_CMD = f"{sys.executable} -c 'import time; time.sleep(60)'"
    order = TradeOrderFactory(project=ProjectFactory(mode="paper"), side="SELL", quantity=10)
    caplog.set_level(logging.DEBUG)

    result = order_dispatch(order_id=order.pk)

    assert result.outcome == "dispatched", result
    folder = engines.engine_dir("paper")
    config_path = folder / "config.json"
    assert PASSWORD in config_path.read_text(encoding="utf-8")
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    intent = json.loads((folder / "intents" / f"{order.client_order_id}.json").read_text(encoding="utf-8"))
    assert intent["quantity"] == -10 and "password" not in json.dumps(intent).lower()
    pid_file = (folder / "engine.pid").read_text(encoding="utf-8")
    pid = json.loads(pid_file)["pid"]
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    assert QC_TOKEN in config_path.read_text(encoding="utf-8")
    order.refresh_from_db()
    client.force_login(admin_user)
    api_text = client.get("/api/trade/engines").content.decode()
    _no_secret_anywhere(
        execution_root,
        caplog.text,
        cmdline,
        environ,
        api_text,
        json.dumps(order.params),
        order.status_message or "",
    )
    assert re.search(r"--config\x00" + re.escape(str(config_path)), cmdline)


@pytest.mark.django_db
def test_a_failed_start_names_no_secret(
    lean_settings: Any, execution_root: Path, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    lean_settings.LEAN_LAUNCHER_CMD = f"{tmp_path}/no-such-dotnet QuantConnect.Lean.Launcher.dll"
    order = TradeOrderFactory(project=ProjectFactory(mode="paper"))
    caplog.set_level(logging.DEBUG)

    result = order_dispatch(order_id=order.pk)

    order.refresh_from_db()
    assert result.outcome == "failed"
    assert order.status == OrderStatus.FAILED
    _no_secret_anywhere(execution_root, caplog.text, json.dumps(order.params), order.status_message or "")


@pytest.mark.django_db
def test_missing_ib_login_fails_the_order_with_the_variable_names(
    lean_settings: Any, execution_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lean_settings.IB_LOGINS = {"paper": {"user_name": "paperuser", "password": PASSWORD}, "live": {}}
    order = TradeOrderFactory(project=ProjectFactory(mode="paper"))
    caplog.set_level(logging.DEBUG)

    result = order_dispatch(order_id=order.pk)

    order.refresh_from_db()
    assert result.outcome == "failed"
    assert order.status == OrderStatus.FAILED
    assert "IB_PAPER_ACCOUNT" in (order.status_message or "")
    assert not TradeOrder.objects.filter(status_message__contains=PASSWORD).exists()
    _no_secret_anywhere(execution_root, caplog.text, order.status_message or "")
