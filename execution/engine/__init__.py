"""An engine's life: its launch config (config), its process (process: start, hand-over, commands, stop),
its command files (command_files), what its folder says (state), launch_execution (launch: the one call
that starts an engine process from its config), the babysitter (supervise), the LEAN preflight (preflight)
and the simulator's symbol universe (universe).

The names below load on first use (PEP 562): `python -m execution.engine.supervise` runs this package's
`__init__` before Django is anywhere, and supervise is standard library only, so nothing here may import
Django (or the other modules) eagerly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from execution.engine.config import EngineConfigError, build_execution_config, engine_command
    from execution.engine.launch import launch_execution
    from execution.engine.preflight import note_failed_start, run_preflight
    from execution.engine.process import (
        Handover,
        engine_holds,
        engine_start,
        hand_over,
        send_command,
        stop_engine,
    )
    from execution.engine.state import (
        MODES,
        EngineError,
        EngineState,
        engine_dir,
        engine_folder,
        engine_state,
    )
    from execution.engine.universe import universe_symbols

_HOMES = {
    "EngineConfigError": "config",
    "build_execution_config": "config",
    "engine_command": "config",
    "note_failed_start": "preflight",
    "run_preflight": "preflight",
    "Handover": "process",
    "engine_start": "process",
    "hand_over": "process",
    "launch_execution": "launch",
    "send_command": "process",
    "stop_engine": "process",
    "MODES": "state",
    "EngineError": "state",
    "EngineState": "state",
    "engine_dir": "state",
    "engine_folder": "state",
    "engine_holds": "process",
    "engine_state": "state",
    "universe_symbols": "universe",
}

__all__ = [
    "MODES",
    "EngineConfigError",
    "EngineError",
    "EngineState",
    "Handover",
    "build_execution_config",
    "engine_command",
    "engine_dir",
    "engine_folder",
    "engine_holds",
    "engine_start",
    "engine_state",
    "hand_over",
    "launch_execution",
    "note_failed_start",
    "run_preflight",
    "send_command",
    "stop_engine",
    "universe_symbols",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
