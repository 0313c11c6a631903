"""The engine side of the desk's one subscribe path: LEAN's AddSecurityCommand in a command file of its own.

An engine started without an order (`engine start`, "restart to reconcile") holds no subscription for a
symbol it does not hold, and LEAN answers an OrderCommand for it with MissingSecurity
(Algorithm/QCAlgorithm.Trading.cs:1059-1063@24863901). LEAN's FileCommandHandler reads `command*.json` sorted
by name (Common/Commands/FileCommandHandler.cs:32,47-52@24863901), so the subscribe file is named to sort
before every order, cancel and update command file (`command-<uuid>.json`, engine.process.command_path):
`command-0-subscribe-<SYMBOL>.json`. After "command-0" it has "-", which sorts before every hex digit both
ordinally and in a linguistic comparison (punctuation before digits and letters), and a uuid's first group
is eight hex digits, so no uuid name has "-" there.

Cheap to call for every order: each run's subscribed symbols are kept in `subscriptions.json`, and a symbol
the running run already has a command for writes nothing (the caller holds the mode lock).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from execution.contract import add_security_command
from execution.contract.files import read_json, write_json_atomic
from execution.contract.folder import COMMAND_PREFIX
from execution.engine.state import engine_dir

# After COMMAND_PREFIX ("command-"): "0-", before every uuid (see above).
SUBSCRIBE_PREFIX = f"{COMMAND_PREFIX}0-subscribe-"
SUBSCRIPTIONS_FILE = "subscriptions.json"
SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,14}$")
_NAMESPACE = uuid.UUID("0b7c9e1e-52a3-4f0e-8d11-6a2f3c9b7e21")


def subscribe_command_id(*, run_id: str, symbol: str) -> str:
    """The AddSecurityCommand Id of a symbol in a run (its result file is result-command-<Id>.json)."""
    return str(uuid.uuid5(_NAMESPACE, f"{run_id}:{symbol}"))


def subscribe_path(mode: str, symbol: str) -> Path:
    """Where a symbol's subscribe command waits for the engine."""
    return engine_dir(mode) / f"{SUBSCRIBE_PREFIX}{symbol}.json"


def subscribed_symbols(mode: str, run_id: str) -> set[str]:
    """The symbols a subscribe command was written for in this run."""
    data = read_json(engine_dir(mode) / SUBSCRIPTIONS_FILE)
    if not isinstance(data, dict) or data.get("run_id") != run_id:
        return set()
    return {str(symbol) for symbol in data.get("symbols") or []}


def subscribe_locked(*, mode: str, run_id: str, symbol: str) -> bool:
    """Write the symbol's AddSecurityCommand for the running run (caller holds the mode lock); True if written.

    The run's record is written first: a crash between the two leaves a symbol recorded without its file,
    which the next run (a new run id) never reads, rather than two files for one symbol."""
    if not SYMBOL_RE.match(symbol):
        raise ValueError(f"invalid symbol {symbol!r}")
    known = subscribed_symbols(mode, run_id)
    if symbol in known:
        return False
    folder = engine_dir(mode)
    write_json_atomic(folder / SUBSCRIPTIONS_FILE, {"run_id": run_id, "symbols": sorted(known | {symbol})})
    command = add_security_command(
        command_id=subscribe_command_id(run_id=run_id, symbol=symbol), symbol=symbol
    )
    # write_json_atomic stages under a hidden name LEAN's `command*.json` never matches, then renames.
    write_json_atomic(subscribe_path(mode, symbol), command)
    return True
