"""LEAN preflight: each thing a live LEAN start on IB needs, checked on this host, with the fix when it fails.

The facts behind each check were read in QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4,
QuantConnect/Lean.Brokerages.InteractiveBrokers at d154917dc6ec7fa99f2e588d3f5146c3b73b6344 and
QuantConnect/IBAutomater 2.0.91 at 20815f591bebf727e5fd0adbc614bd7d3a505e96, the version the IB plugin pins
(docs/lean.md cites the lines). Modules: base (the Check), lean (the build and the engine folders), python
(PYTHONNET_PYDLL, pandas and numpy), algorithm (the algorithm file and its companion package), ib (IB Gateway, Xvfb and pkill, the weekly restart).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from execution.contract.files import read_json, write_json_atomic
from execution.engine import process as engines
from execution.engine.preflight.algorithm import check_algorithm_file
from execution.engine.preflight.base import Check
from execution.engine.preflight.ib import (
    check_ib_gateway,
    check_weekly_restart,
    check_x_tools,
    ib_gateway_dir,
    weekly_restart_problem,
)
from execution.engine.preflight.lean import (
    check_algorithm_imports,
    check_data_folder,
    check_dotnet,
    check_engine_folder,
    check_ib_plugin,
    check_launcher,
    check_launcher_writable,
    check_single_lean,
    check_variables,
    writable_by,
)
from execution.engine.preflight.python import check_pandas, check_pythonnet, pythonnet_interpreter_candidates
from execution.engine.state import EngineState

__all__ = [
    "CHECKS",
    "Check",
    "check_algorithm_file",
    "check_launcher_writable",
    "check_pandas",
    "ib_gateway_dir",
    "note_failed_start",
    "preflight_recorded",
    "pythonnet_interpreter_candidates",
    "record_failed_start",
    "run_preflight",
    "weekly_restart_problem",
    "writable_by",
]


CHECKS: tuple[Callable[[], Check], ...] = (
    check_dotnet,
    check_launcher,
    check_algorithm_imports,
    check_algorithm_file,
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
