"""Starting an engine process: its allow-listed environment and the supervisor that runs it detached."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import structlog

from execution.contract.files import read_json
from execution.engine.config import PROJECT_ROOT, engine_command
from execution.engine.state import EngineError

# What the engine process inherits: system basics and LEAN's runtime (.NET, Python.NET, Java for IB Gateway).
# Never the database URL, the secret key, the broker URL or IB secrets (config.json has those). No X display
# either: IBAutomater.sh unsets DISPLAY and starts its own Xvfb on :1 (IBAutomater.sh:15-17 at IBAutomater
# 2.0.91 = 20815f5, the version the IB plugin pins: tests/fixtures/ibautomater/ibautomater-sh.json).
ENGINE_ENV_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"}
    | {"LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "JAVA_HOME"}
)
ENGINE_ENV_PREFIXES = ("LC_", "PYTHON", "DOTNET_", "NUGET_")


def engine_environment(extra: dict[str, str]) -> dict[str, str]:
    """The engine's environment: the allow-listed part of ours plus the engine command's own variables."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key in ENGINE_ENV_NAMES or key.startswith(ENGINE_ENV_PREFIXES)
    }
    return inherited | extra


def _log_context() -> list[str]:
    """`--context key=value` arguments for the supervisor: the request and order that started this run."""
    context = structlog.contextvars.get_contextvars()
    pairs = [f"{key}={context[key]}" for key in ("request_id", "task_id", "order_id") if key in context]
    return [arg for pair in pairs for arg in ("--context", pair)]


def launch_execution(config_path: Path | str) -> int:
    """Start the engine of a launch config, detached under its supervisor, in the config's folder; its pid.

    The one call that starts an engine process (the original plan's name): the folder is the config's, the
    run id its `run-id` parameter, the command the engine's (engine_command)."""
    config_path = Path(config_path)
    parameters = (read_json(config_path) or {}).get("parameters") or {}
    command, extra_env = engine_command(config_path)
    env = engine_environment(extra_env)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "execution.engine.supervise",
            "--workdir",
            str(config_path.parent),
            "--run-id",
            str(parameters.get("run-id", "")),
            *_log_context(),
            "--",
            *command,
        ],
        cwd=PROJECT_ROOT,
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        raise EngineError(
            f"engine for {config_path.parent.name} did not start: {result.stderr.strip() or result.stdout.strip()}"
        )
    return int(result.stdout.strip().split()[-1])
