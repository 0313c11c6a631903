"""A mode's command files: written under a name LEAN ignores and renamed into place, taken back, answered.

LEAN reads `command*.json` from its cwd the moment it appears, hence the rename."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from execution.contract.files import read_json, write_json_atomic
from execution.engine.state import engine_folder

COMMAND_NAMESPACE = uuid.UUID("6f1c3a52-7d0e-4c1e-9a47-3b1f2c8d9e10")


def command_id_for(client_order_id: str) -> str:
    """The OrderCommand Id of an order: derived from its client_order_id, so a sweep can find its files."""
    return str(uuid.uuid5(COMMAND_NAMESPACE, client_order_id))


def command_path(mode: str, command_id: str) -> Path:
    """Where a command file lives while the engine has not read it."""
    return engine_folder(mode).command(command_id)


def result_path(mode: str, command_id: str) -> Path:
    """Where the engine answers a command."""
    return engine_folder(mode).result(command_id)


def write_command(mode: str, command: dict[str, Any]) -> Path:
    """Write a command under a name LEAN ignores, then rename it to `command-<Id>.json`."""
    final = command_path(mode, command["Id"])
    staging = engine_folder(mode).command_staged(command["Id"])
    write_json_atomic(staging, command)
    os.replace(staging, final)
    return final


def retract_command(mode: str, command_id: str) -> bool:
    """Take back a command file the (dead) engine never read; True when it was still there."""
    path = command_path(mode, command_id)
    try:
        os.replace(path, engine_folder(mode).command_retracted(command_id))
    except FileNotFoundError:
        return False
    return True


def read_command_result(mode: str, command_id: str) -> dict[str, Any] | None:
    """The engine's CommandResultPacket for a command, keys in either letter case, or None."""
    data = read_json(result_path(mode, command_id))
    if not isinstance(data, dict):
        return None
    return {str(key).lower(): value for key, value in data.items()}
