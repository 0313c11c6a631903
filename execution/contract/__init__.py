"""The file contract between tradedesk and its engines (docs/engine-contract.md), in one package.

Standard library only, and nothing else of the project at run time: the engine processes (the simulator,
the supervisor) import it without Django. Modules: folder (the engine folder: EngineFolder, every file name
in it, the mode of an events file), messages (event lines, identity, status map, command
files), intents (the order-intent file), files (atomic JSON writes, reads, tails), market_hours (the
market-order rule outside regular hours, shared with the simulator and held against the LEAN copy).
"""

from execution.contract.files import read_json, tail_lines, write_json_atomic
from execution.contract.folder import MODES, EngineFolder, events_file_mode
from execution.contract.intents import (
    bracket_contract,
    intent_payload,
    json_number,
    write_manual_order_intent,
)
from execution.contract.market_hours import (
    HOURS_CHOICES,
    MARKET,
    MARKET_ON_OPEN,
    MOO_MESSAGE,
    REFUSED,
    clock,
    exchange_open_at,
    market_order_route,
    route_at,
)
from execution.contract.messages import (
    BRACKET_RESIZE_KEY,
    BRACKET_RESIZE_STATUS,
    COMMAND_REFUSED,
    EVENT_KEYS,
    HOLDINGS_PART_KEYS,
    LEAN_ORDER_TYPE_NAMES,
    LEAN_STATUS_MAP,
    LEAN_TIME_IN_FORCE_NAMES,
    LEAN_UPDATE_COMMAND_TYPE,
    ORDER_COMMAND_TYPE,
    RUN_BOUNDARIES,
    UPDATE_COMMAND_TYPE,
    UPDATE_REFUSED_KEY,
    UPDATE_REFUSED_STATUS,
    add_security_command,
    cancel_command,
    canonical_json,
    command_refusal,
    event_identity,
    order_command,
    update_command,
)

__all__ = [
    "BRACKET_RESIZE_KEY",
    "BRACKET_RESIZE_STATUS",
    "COMMAND_REFUSED",
    "EVENT_KEYS",
    "HOLDINGS_PART_KEYS",
    "HOURS_CHOICES",
    "LEAN_ORDER_TYPE_NAMES",
    "LEAN_STATUS_MAP",
    "LEAN_TIME_IN_FORCE_NAMES",
    "LEAN_UPDATE_COMMAND_TYPE",
    "MARKET",
    "MARKET_ON_OPEN",
    "MODES",
    "MOO_MESSAGE",
    "ORDER_COMMAND_TYPE",
    "REFUSED",
    "RUN_BOUNDARIES",
    "UPDATE_COMMAND_TYPE",
    "UPDATE_REFUSED_KEY",
    "UPDATE_REFUSED_STATUS",
    "EngineFolder",
    "add_security_command",
    "bracket_contract",
    "cancel_command",
    "canonical_json",
    "clock",
    "command_refusal",
    "event_identity",
    "events_file_mode",
    "exchange_open_at",
    "intent_payload",
    "json_number",
    "market_order_route",
    "order_command",
    "read_json",
    "route_at",
    "tail_lines",
    "update_command",
    "write_json_atomic",
    "write_manual_order_intent",
]
