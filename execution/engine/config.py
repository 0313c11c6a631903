"""The engine's launch config (LEAN's config.json keys), written with mode 0600 since it holds IB secrets."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from django.conf import settings

from execution.contract.files import write_json_atomic
from execution.contract.folder import DESK_ALIVE_FILE, EngineFolder

ALGORITHM_FILE = Path(__file__).resolve().parent.parent / "lean" / "manual_order_execution.py"
ALGORITHM_TYPE_NAME = "ManualOrderExecution"
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

# LEAN's `live-interactive` environment block (Launcher/config.json), flattened into our own config file
# because tradedesk writes a complete config rather than LEAN's default one with environments.
LEAN_LIVE_HANDLERS: dict[str, Any] = {
    "live-mode": True,
    "live-mode-brokerage": "InteractiveBrokersBrokerage",
    "data-queue-handler": ["InteractiveBrokersBrokerage"],
    "setup-handler": "QuantConnect.Lean.Engine.Setup.BrokerageSetupHandler",
    "result-handler": "QuantConnect.Lean.Engine.Results.LiveTradingResultHandler",
    "data-feed-handler": "QuantConnect.Lean.Engine.DataFeeds.LiveTradingDataFeed",
    "real-time-handler": "QuantConnect.Lean.Engine.RealTime.LiveTradingRealTimeHandler",
    "transaction-handler": "QuantConnect.Lean.Engine.TransactionHandlers.BrokerageTransactionHandler",
    "history-provider": [
        "BrokerageHistoryProvider",
        "SubscriptionDataReaderHistoryProvider",
    ],
}


# Where the simulator's random walks start for well-known symbols (others start from a price derived from
# the symbol's name), so demo prices look like the market's.
SIMULATOR_REFERENCE_PRICES = {
    "AAPL": 190.0,
    "MSFT": 410.0,
    "NVDA": 131.0,
    "AMZN": 185.0,
    "GOOGL": 170.0,
    "META": 560.0,
    "TSLA": 250.0,
    "SPY": 590.0,
    "QQQ": 510.0,
}


class EngineConfigError(Exception):
    """The engine cannot be configured (a missing setting); the message says which."""


def _parameters(*, workdir: Path, run_id: str, intent_path: Path | None) -> dict[str, str]:
    # LEAN parameters are strings.
    return {
        "intent-file": str(intent_path.resolve()) if intent_path else "",
        # Scanned by every run, with or without an intent (an `engine start` run too): the algorithm
        # subscribes the symbols of new intents from here (execution/lean/manual_order_execution.py).
        "intents-folder": str(EngineFolder(workdir).intents.resolve()),
        "events-file": str(EngineFolder(workdir).events.resolve()),
        "run-id": run_id,
        "prices-interval": str(settings.TRADEDESK_PRICES_INTERVAL),
        # The ingest's line cap: the engines split a holdings snapshot whose line would be longer.
        "max-line-bytes": str(settings.TRADEDESK_EVENTS_MAX_LINE_BYTES),
    }


def simulator_config(*, workdir: Path, run_id: str, intent_path: Path | None) -> dict[str, Any]:
    """The simulator's config: LEAN's shape, environment live-paper, plus a `simulator` section."""
    return {
        "environment": "live-paper",
        "algorithm-type-name": ALGORITHM_TYPE_NAME,
        "algorithm-language": "Python",
        "algorithm-location": str(ALGORITHM_FILE),
        "live-mode-brokerage": "PaperBrokerage",
        "parameters": _parameters(workdir=workdir, run_id=run_id, intent_path=intent_path),
        "simulator": {
            "seed": settings.TRADEDESK_SIM_SEED,
            "idle-timeout": settings.TRADEDESK_SIM_IDLE_TIMEOUT,
            "fill-delay": settings.TRADEDESK_SIM_FILL_DELAY,
            "partial-fills": settings.TRADEDESK_SIM_PARTIAL_FILLS,
            "holdings-interval": settings.TRADEDESK_SIM_HOLDINGS_INTERVAL,
            "prices-interval": settings.TRADEDESK_PRICES_INTERVAL,
            "reference-prices": SIMULATOR_REFERENCE_PRICES,
            "market-hours": settings.TRADEDESK_SIM_MARKET_HOURS,
            "clock": settings.TRADEDESK_SIM_CLOCK,
            "universe-file": settings.TRADEDESK_SIM_UNIVERSE_FILE,
            "starting-cash": str(settings.TRADEDESK_SIM_STARTING_CASH),
            # While the desk's keep-alive file is fresh (make run's desk_engine), the simulator never exits idle.
            "keepalive-file": str((workdir / DESK_ALIVE_FILE).resolve()),
            "follow": list(settings.TRADEDESK_SIM_FOLLOW),
        },
    }


def lean_data_folder(launcher_dir: Path) -> Path:
    """LEAN_DATA_FOLDER, else LEAN's own default: `../../../Data/` from the build folder (Launcher/bin/<cfg>),
    or a `Data` folder inside it (a published build)."""
    if settings.LEAN_DATA_FOLDER:
        return Path(settings.LEAN_DATA_FOLDER).expanduser().resolve()
    repo_data = (launcher_dir / "../../../Data").resolve()
    beside = launcher_dir / "Data"
    return beside if beside.is_dir() and not repo_data.is_dir() else repo_data


def lean_missing_settings(mode: str) -> list[str]:
    """The variables a LEAN engine of `mode` needs that are unset (or unusable), by name, never by value."""
    login = settings.IB_LOGINS.get(mode) or {}
    missing = [
        f"IB_{mode.upper()}_{key.upper()}"
        for key in ("user_name", "password", "account")
        if not login.get(key)
    ]
    if not settings.LEAN_LAUNCHER_DIR:
        missing.append("LEAN_LAUNCHER_DIR")
    if not settings.IB_TWS_DIR:
        missing.append("IB_TWS_DIR")
    # LEAN reads job-user-id with Config.GetInt (Common/Globals.cs 95 at 24863901): a non-number is unset.
    if not settings.QC_USER_ID.isdigit():
        missing.append("QC_USER_ID")
    if not settings.QC_API_TOKEN:
        missing.append("QC_API_TOKEN")
    if not settings.QC_ORGANIZATION_ID:
        missing.append("QC_ORGANIZATION_ID")
    return missing


def lean_config(*, mode: str, workdir: Path, run_id: str, intent_path: Path | None) -> dict[str, Any]:
    """LEAN's live config for Interactive Brokers, one IB login per mode, absolute paths throughout."""
    missing = lean_missing_settings(mode)
    if missing:
        raise EngineConfigError(f"LEAN engine for {mode} needs {', '.join(missing)}")
    login = settings.IB_LOGINS[mode]
    launcher_dir = Path(settings.LEAN_LAUNCHER_DIR).expanduser().resolve()
    data_folder = lean_data_folder(launcher_dir)
    config: dict[str, Any] = {
        "environment": "live-interactive",
        "algorithm-type-name": ALGORITHM_TYPE_NAME,
        "algorithm-language": "Python",
        "algorithm-location": str(ALGORITHM_FILE),
        "data-folder": str(data_folder),
        "composer-dll-directory": str(launcher_dir),
        # PythonInitializer.ConfigurePythonPaths puts only the cwd (the engine folder, where LEAN's command
        # handler looks for command files) and these paths on sys.path; AlgorithmImports.py is copied only
        # into the launcher's build folder (Common/QuantConnect.csproj 58-65 at 24863901).
        "python-additional-paths": [str(launcher_dir)],
        # Without it LEAN waits on Console.Read() after the algorithm ended (Queues/JobQueue.cs 294).
        "close-automatically": True,
        # LEAN's default CompositeLogHandler also writes log.txt, unmasked, into the results folder, which is
        # the cwd (Launcher/config.json:35, Logging/CompositeLogHandler.cs:27-33, Engine/Initializer.cs:42-48,
        # Common/Globals.cs:100 at 24863901). ConsoleLogHandler writes only to stdout/stderr
        # (ConsoleLogHandler.cs:44-51), which the supervisor masks into engine.log.
        "log-handler": "QuantConnect.Logging.ConsoleLogHandler",
        # The IB brokerage validates the QuantConnect subscription with these at start and exits the
        # process when that fails (InteractiveBrokersBrokerage.cs ValidateSubscription, Globals.cs 95-98).
        "job-user-id": settings.QC_USER_ID,
        "api-access-token": settings.QC_API_TOKEN,
        "job-organization-id": settings.QC_ORGANIZATION_ID,
        **LEAN_LIVE_HANDLERS,
        "parameters": _parameters(workdir=workdir, run_id=run_id, intent_path=intent_path),
        "ib-account": login["account"],
        "ib-user-name": login["user_name"],
        "ib-password": login["password"],
        "ib-trading-mode": mode,
        "ib-host": settings.IB_HOST,
        "ib-port": str(settings.IB_PORT),
        "ib-agent-description": settings.IB_AGENT_DESCRIPTION,
        # LEAN starts IB Gateway from here; relative to the engine's cwd it would be wrong, and unset it is
        # LEAN's C:\Jts (InteractiveBrokersBrokerageFactory.cs 76).
        "ib-tws-dir": str(Path(settings.IB_TWS_DIR).expanduser().resolve()),
    }
    if settings.IB_VERSION:
        config["ib-version"] = settings.IB_VERSION
    if settings.IB_WEEKLY_RESTART_UTC_TIME:
        config["ib-weekly-restart-utc-time"] = settings.IB_WEEKLY_RESTART_UTC_TIME
    return config


def build_execution_config(*, mode: str, workdir: Path, run_id: str, intent_path: Path | None = None) -> Path:
    """Write `<workdir>/config.json` for the configured engine (mode 0600) and return its path."""
    workdir = Path(workdir).resolve()
    if settings.TRADEDESK_ENGINE == "lean":
        config = lean_config(mode=mode, workdir=workdir, run_id=run_id, intent_path=intent_path)
    else:
        config = simulator_config(workdir=workdir, run_id=run_id, intent_path=intent_path)
    return write_json_atomic(EngineFolder(workdir).config, config, mode=0o600)


def engine_command(config_path: Path) -> tuple[list[str], dict[str, str]]:
    """The command line (and extra environment) that starts the configured engine."""
    if settings.TRADEDESK_ENGINE == "lean":
        parts = shlex.split(settings.LEAN_LAUNCHER_CMD)
        launcher_dir = Path(settings.LEAN_LAUNCHER_DIR).resolve()
        # The launcher dll is named relative to LEAN's build folder, since cwd is the engine's folder.
        parts = [
            str(launcher_dir / p) if p.endswith(".dll") and not Path(p).is_absolute() else p for p in parts
        ]
        env = {"PYTHONNET_PYDLL": settings.PYTHONNET_PYDLL} if settings.PYTHONNET_PYDLL else {}
        return [*parts, "--config", str(config_path)], env
    return [sys.executable, "-m", "execution.simulator", "--config", str(config_path)], {
        "PYTHONPATH": str(PROJECT_ROOT)
    }
