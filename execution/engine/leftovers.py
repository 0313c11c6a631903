"""Before a run starts: the Cancel/Update command files an earlier run never read are taken back.

CancelOrderCommand and the update commands (tradedesk's TradedeskUpdateCommand, LEAN's UpdateOrderCommand)
address LEAN's order id, which is per run: LEAN numbers orders from 1 again in every run, and the orders it
reloads from IB at setup take the first ids (Engine/Setup/BrokerageSetupHandler.cs:485-518@24863901).
LEAN's FileCommandHandler reads every `command*.json` of its folder, sorted by name, once the new run is up
(Common/Commands/FileCommandHandler.cs:32,47-52), so a cancel left by a dead run would cancel whichever order
of the new run got that id. Each such file is taken back (renamed to a name LEAN's pattern never matches) and
its order's request shown as not sent, audited: a cancel is pending again (the engine host sends it to the run
that holds the order), an update is dropped. OrderCommands stay: they carry the order's tag, not a run's id,
and the sweep follows them.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from dataclasses import dataclass

from execution.contract import LEAN_UPDATE_COMMAND_TYPE, UPDATE_COMMAND_TYPE
from execution.contract.files import read_json
from execution.contract.folder import COMMAND_PATTERN, EngineFolder
from orders.models import TradeOrder
from orders.services import order_modify_reject, trade_order_cancel_unsent

logger = logging.getLogger("execution.engine.leftovers")

CANCEL_TYPE = "QuantConnect.Commands.CancelOrderCommand"
# tradedesk's update command, and LEAN's that it sent before (a file of either may be left by a run).
UPDATE_TYPES = (UPDATE_COMMAND_TYPE, LEAN_UPDATE_COMMAND_TYPE)


@dataclass(frozen=True)
class TakenBack:
    """One command file taken back before a run started, and the order it was for (None: no such order)."""

    command_id: str
    kind: str  # "cancel" | "update"
    engine_order_id: int | None
    order_id: int | None


def _command_type(command: dict[str, object]) -> str:
    return str(command.get("$type") or "").split(",")[0].strip()


def _order_for(*, mode: str, engine_order_id: int | None, kind: str) -> TradeOrder | None:
    """The order the command addressed: of the mode, with that engine id and a sent request of its kind.

    Several runs' orders may share the id; the newest run's is the one (run ids sort by their start time, and
    every start takes back what is left, so the files left are the last run's)."""
    if engine_order_id is None:
        return None
    candidates = TradeOrder.objects.filter(mode=mode, ib_order_id=engine_order_id)
    if kind == "cancel":
        candidates = candidates.filter(cancel_sent_at__isnull=False)
    else:
        candidates = candidates.filter(update_pending=True)
    found = sorted(
        candidates.select_related("project"),
        key=lambda order: order.engine_record.run_id,
        reverse=True,
    )
    return found[0] if found else None


def commands_take_back(*, folder: EngineFolder, mode: str, next_run_id: str) -> list[TakenBack]:
    """Take back every unread Cancel/Update command file (the caller holds the mode lock, no engine runs)."""
    taken: list[TakenBack] = []
    try:
        names = sorted(entry.name for entry in os.scandir(folder.path) if entry.is_file())
    except FileNotFoundError:
        return taken
    for name in names:
        if not fnmatch.fnmatchcase(name, COMMAND_PATTERN):
            continue
        command = read_json(folder.path / name)
        if not isinstance(command, dict) or _command_type(command) not in (CANCEL_TYPE, *UPDATE_TYPES):
            continue
        command_id = str(command.get("Id") or name.removeprefix("command-").removesuffix(".json"))
        try:
            os.replace(folder.path / name, folder.command_retracted(command_id))
        except FileNotFoundError:
            continue
        kind = "cancel" if _command_type(command) == CANCEL_TYPE else "update"
        raw_id = command.get("OrderId")
        engine_order_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        order = _order_for(mode=mode, engine_order_id=engine_order_id, kind=kind)
        reason = (
            f"not sent: the engine run stopped before reading the {kind} command {command_id}; taken back "
            f"before run {next_run_id} started, whose order ids are its own"
        )
        if order is not None and kind == "cancel":
            trade_order_cancel_unsent(order=order, command_id=command_id, reason=reason)
        elif order is not None:
            order_modify_reject(order=order, message=reason)
        logger.warning(
            "command of an earlier run taken back",
            extra={"mode": mode, "kind": kind, "command_id": command_id, "engine_order_id": engine_order_id,
                   "order": order.client_order_id if order else None, "next_run_id": next_run_id},
        )  # fmt: skip
        taken.append(TakenBack(command_id, kind, engine_order_id, order.pk if order else None))
    return taken
