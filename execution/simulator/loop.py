"""The simulator's loop: intent at start, command files, idle exit, and the command-line entry."""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import signal
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from execution.contract import LEAN_UPDATE_COMMAND_TYPE, ORDER_COMMAND_TYPE, UPDATE_COMMAND_TYPE, market_hours
from execution.contract.folder import COMMAND_PATTERN, RESULT_PREFIX
from execution.simulator.book import OrderBook
from execution.simulator.brackets import parse_bracket
from execution.simulator.common import (
    ENGINE_NAME,
    ID_SNIFF_RE,
    INTENT_ORDER_TYPES,
    LEAN_ORDER_TYPES,
    LEAN_SECURITY_TYPES,
    RESULT_PACKET_TYPE,
    SAFE_ID_RE,
    SUPPORTED_ORDER_TYPES,
    SYMBOL_RE,
    InvalidCommand,
    atomic_write_json,
    json_number,
    log,
    open_events_for_append,
    parse_decimal,
    utc_now_iso,
    warn,
)
from execution.simulator.config import SimulatorConfig
from execution.simulator.orders import order_properties
from execution.simulator.wakeup import Wakeup


class Simulator(OrderBook):
    """The engine loop: intent at start, command files, fills, holdings lines, idle exit."""

    # ---- intent and commands -------------------------------------------------------------------------

    def place_intent(self, path: Path) -> None:
        """Place the order of the intent file handed over at start (tradedesk's order intent format)."""
        try:
            intent = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(intent, dict):
                raise ValueError("intent is not a JSON object")
        except (OSError, ValueError) as exc:
            warn(f"intent file {path} unreadable: {exc}; no order placed")
            return
        tag = intent.get("order_intent_id")
        if not isinstance(tag, str) or not tag:
            warn(f"intent file {path} has no order_intent_id; no order placed")
            return
        quantity = parse_decimal(intent.get("quantity"))
        kind = str(intent.get("order_type") or "").upper()
        kind = " ".join(kind.split())
        order_type = INTENT_ORDER_TYPES.get(kind, kind or "(none)")
        limit = parse_decimal(intent.get("limit_price"))
        stop = parse_decimal(intent.get("stop_price"))
        # The intent's trailing percent is tradedesk's (5 is 5 %); the book works LEAN's fraction.
        as_percent = intent.get("trailing_as_percent") is True
        trailing = parse_decimal(intent.get("trailing_amount"))
        if trailing is not None and as_percent:
            trailing /= 100
        submitted_message = ""
        if order_type == "Market" and quantity is not None:
            # LEAN's MarketOrder path: closed market -> MarketOnOpen when IB accepts it, else refused.
            route, submitted_message = market_hours.route_at(
                now=market_hours.clock(self.config.clock), hours=self.config.market_hours
            )
            if route == market_hours.REFUSED:
                order_id = self.next_order_id
                self.next_order_id += 1
                symbol = str(intent.get("symbol") or "")
                self.order_event(order_id, tag, symbol, "Invalid", 1, message=submitted_message)
                log(f"intent {tag}: {submitted_message}")
                return
            order_type = route
        if quantity is None:
            # With a tag tradedesk can match, a bad quantity is reported as an Invalid order, not dropped.
            order_id = self.next_order_id
            self.next_order_id += 1
            message = f"Invalid order quantity {intent.get('quantity')!r}"
            self.order_event(order_id, tag, str(intent.get("symbol") or ""), "Invalid", 1, message=message)
            log(f"intent {tag}: {message}")
            return
        legs, error = parse_bracket(intent.get("bracket"))
        if error:
            order_id = self.next_order_id
            self.next_order_id += 1
            self.order_event(order_id, tag, str(intent.get("symbol") or ""), "Invalid", 1, message=error)
            log(f"intent {tag}: {error}")
            return
        self.place_order(
            tag,
            intent.get("symbol"),
            quantity,
            order_type,
            limit,
            stop_price=None if order_type == "TrailingStop" else stop,
            submitted_message=submitted_message,
            trailing=(trailing, as_percent),
            trigger_price=parse_decimal(intent.get("trigger_price")),
            properties=order_properties(
                intent.get("time_in_force") or "DAY", intent.get("good_till_date"), intent.get("outside_rth")
            ),
            bracket=legs,
        )

    def run_command(self, command: Any) -> tuple[str, bool, str, dict[str, Any]]:
        """Execute one command object; returns (CommandName, Success, Message, extra result fields)."""
        if not isinstance(command, dict):
            raise InvalidCommand("command is not a JSON object")
        type_name = str(command.get("$type") or "").split(",")[0].strip()
        # Newtonsoft matches property names case-insensitively, so "quantity" works in LEAN too.
        command = {str(key).lower(): value for key, value in command.items()}
        short = type_name.rsplit(".", 1)[-1] or "Unknown"
        if type_name in ("QuantConnect.Commands.OrderCommand", ORDER_COMMAND_TYPE):
            quantity = parse_decimal(command.get("quantity"))
            if quantity is None:
                return short, False, f"Invalid Quantity {command.get('quantity')!r}", {}
            order_type = command.get("ordertype", "Market")
            if isinstance(order_type, int) and not isinstance(order_type, bool):
                order_type = LEAN_ORDER_TYPES.get(order_type, str(order_type))
            order_type = {name.lower(): name for name in SUPPORTED_ORDER_TYPES}.get(
                str(order_type).lower(), str(order_type)
            )
            security = command.get("securitytype", "Equity")
            if isinstance(security, int) and not isinstance(security, bool):
                security = LEAN_SECURITY_TYPES.get(security, str(security))
            security = "Equity" if str(security).lower() == "equity" else str(security)
            limit = parse_decimal(command.get("limitprice"))
            stop = parse_decimal(command.get("stopprice"))
            tag = command.get("tag")
            # SubmitOrderRequest's fields (Common/Orders/SubmitOrderRequest.cs:85-104): TrailingAmount (a
            # percent as its fraction) with TrailingAsPercentage, TriggerPrice; 0 or absent when they do not apply.
            trailing = parse_decimal(command.get("trailingamount"))
            trigger = parse_decimal(command.get("triggerprice"))
            # LEAN's own OrderCommand places with DefaultOrderProperties: GTC, regular hours only.
            properties = (
                order_properties(
                    command.get("timeinforce"),
                    command.get("goodtildate"),
                    command.get("outsideregulartradinghours"),
                )
                if type_name == ORDER_COMMAND_TYPE
                else ("GTC", None, False, "")
            )
            legs, error = parse_bracket(command.get("bracket"))
            if error:
                return short, False, error, {}
            ok, message = self.place_order(
                "" if tag is None else str(tag),
                command.get("ticker"),
                quantity,
                order_type,
                limit if order_type in ("Limit", "StopLimit", "LimitIfTouched") else None,
                security,
                submitted_message=market_hours.MOO_MESSAGE if order_type == "MarketOnOpen" else "",
                stop_price=stop
                if order_type in ("StopMarket", "StopLimit", "TrailingStop") and stop
                else None,
                trailing=(trailing, command.get("trailingaspercentage") is True),
                trigger_price=trigger if order_type == "LimitIfTouched" else None,
                properties=properties,
                bracket=legs,
            )
            return short, ok, message, {}
        if type_name == "QuantConnect.Commands.AddSecurityCommand":
            # LEAN: algorithm.AddSecurity, then Result(this, true, security.Symbol)
            # (Common/Commands/AddSecurityCommand.cs:77-80@24863901). The simulator prices any symbol, so it
            # only records the subscription (and refuses what IB would not know, as for an order).
            ticker = command.get("symbol")
            if not isinstance(ticker, str) or not SYMBOL_RE.fullmatch(ticker):
                return short, False, f"Invalid symbol {ticker!r}", {}
            if self.config.universe is not None and ticker not in self.config.universe:
                return short, False, f"unknown contract {ticker} (no security definition found)", {}
            self.subscribed.add(ticker)
            return short, True, f"subscribed {ticker}", {"Symbol": ticker}
        if type_name == "QuantConnect.Commands.CancelOrderCommand":
            order_id = parse_decimal(command.get("orderid"))
            if order_id is None or order_id != order_id.to_integral_value():
                return short, False, f"Invalid OrderId {command.get('orderid')!r}", {"QuantityFilled": 0}
            ok, message, filled = self.cancel_order(int(order_id))
            return short, ok, message, {"QuantityFilled": json_number(filled)}
        if type_name in (LEAN_UPDATE_COMMAND_TYPE, UPDATE_COMMAND_TYPE):
            order_id = parse_decimal(command.get("orderid"))
            if order_id is None or order_id != order_id.to_integral_value():
                return short, False, f"Invalid OrderId {command.get('orderid')!r}", {}
            # LEAN's command has no trigger or trailing amount (UpdateOrderCommand.cs:57-65@24863901): None.
            keys = ("quantity", "limitprice", "stopprice", "triggerprice", "trailingamount")
            quantity, limit, stop, trigger, trailing = (parse_decimal(command.get(key)) for key in keys)
            ok, message = self.update_order(
                int(order_id), quantity, limit, stop, trigger=trigger, trailing=trailing, source=short
            )
            return short, ok, message, {}
        return short, False, f"Command type {type_name or '(missing $type)'} is not supported", {}

    def write_result(
        self, command_id: str, name: str, success: bool, message: str, extra: dict[str, Any]
    ) -> None:
        """Acknowledge a command the way LEAN's FileCommandHandler does: result-command-<Id>.json."""
        if not SAFE_ID_RE.fullmatch(command_id):
            warn(f"command Id {command_id!r} is not safe for a file name; no result file written")
            return
        packet = {
            "$type": RESULT_PACKET_TYPE,
            "Id": command_id,
            "CommandName": name,
            "Success": success,
            "Message": message,
            "Type": "CommandResult",
            "Channel": "",
            **extra,
        }
        atomic_write_json(self.config.workdir / f"{RESULT_PREFIX}{command_id}.json", packet)

    def process_command_file(self, path: Path) -> None:
        """Read, delete (always, as LEAN does), execute and acknowledge one command file."""
        log(f"reading command file {path.name}")
        try:
            raw: bytes | None = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            warn(f"command file {path.name} unreadable: {exc}")
            raw = None
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            # A command that cannot be deleted would run again at every poll: never execute it.
            warn(f"command file {path.name} cannot be deleted ({exc}); ignoring it")
            self.undeletable.add(path.name)
            return
        self.last_activity = time.monotonic()
        if raw is None:
            return
        try:
            parsed = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            sniffed = ID_SNIFF_RE.search(raw)
            if sniffed is None:
                warn(f"command file {path.name} is not valid JSON ({exc}) and has no Id; dropped")
                return
            command_id = sniffed.group(1).decode("ascii")
            warn(f"command file {path.name} is not valid JSON ({exc}); answering Id {command_id}")
            self.write_result(command_id, "Unknown", False, f"Command file is not valid JSON: {exc}", {})
            return
        # LEAN accepts a single command or a list of them in one file.
        for command in parsed if isinstance(parsed, list) else [parsed]:
            ids = (
                [v for k, v in command.items() if str(k).lower() == "id"] if isinstance(command, dict) else []
            )
            command_id = str(ids[0]) if ids and ids[0] is not None else ""
            try:
                name, ok, message, extra = self.run_command(command)
            except InvalidCommand as exc:
                name, ok, message, extra = "Unknown", False, str(exc), {}
            log(f"command {command_id or '(no Id)'} {name}: {'ok' if ok else 'failed'}: {message}")
            if command_id:
                self.write_result(command_id, name, ok, message, extra)
            else:
                warn(f"command in {path.name} has no Id; no result file written")

    def poll_commands(self) -> None:
        """Handle every command*.json in the working directory, in name order like LEAN."""
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(self.config.workdir)
                if fnmatch.fnmatchcase(entry.name, COMMAND_PATTERN)
                and entry.is_file()
                and entry.name not in self.undeletable
            )
        except OSError as exc:
            warn(f"cannot list {self.config.workdir}: {exc}")
            return
        for name in names:
            self.process_command_file(self.config.workdir / name)

    # ---- lifecycle ---------------------------------------------------------------------------------

    def desk_alive(self) -> bool:
        """Whether make run's desk touched the keep-alive file within the idle timeout (then never idle)."""
        if self.config.keepalive_file is None:
            return False
        try:
            age = time.time() - self.config.keepalive_file.stat().st_mtime
        except OSError:
            return False
        return age < self.config.idle_timeout

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        """Signal handler: only flags the stop, the loop writes the stopped line between steps."""
        self.stop_signal = signal.Signals(signum).name

    def stop(self, reason: str, **extra: Any) -> None:
        """A last holdings line, stopped. Working orders stay with the simulated broker (as IB keeps an
        account's open orders when LEAN stops): the next run reloads them untagged."""
        self.holdings_line()
        self.engine_line("stopped", reason=reason, **extra)
        log(f"stopped ({reason})")

    def run(self) -> int:
        """The engine's life: start lines, the intent, then the poll loop until idle or a signal."""
        cfg = self.config
        self.account.load()
        self.close_torn_line()
        self.engine_line("started")
        log(f"started run {cfg.run_id} pid {os.getpid()} in {cfg.workdir} (seed {cfg.seed})")
        self.holdings_line()
        self.open_orders_line(self.reload_broker_orders())
        if cfg.intent_file is not None:
            self.place_intent(cfg.intent_file)
        self.last_activity = time.monotonic()
        wakeup = Wakeup(cfg.workdir, inotify=cfg.inotify, stopping=lambda: bool(self.stop_signal))
        try:
            return self._loop(wakeup)
        finally:
            wakeup.close()

    def due_in(self, now: float) -> float:
        """Seconds until something is due (a fill attempt, a holdings or prices line), at most the poll."""
        cfg = self.config
        due = [self.next_holdings, self.next_prices if cfg.prices_interval > 0 else math.inf]
        # An attempt already past waits for its market (the open, the close, its session): the poll looks.
        due.extend(o.next_attempt for o in self.orders.values() if o.working and o.next_attempt > now)
        return max(0.0, min(cfg.poll_interval, min(due) - now))

    def _loop(self, wakeup: Wakeup) -> int:
        """Commands, fills, holdings and prices lines, the idle exit; between steps, wait for what is next."""
        cfg = self.config
        while True:
            if self.stop_signal:
                self.stop("signal", signal=self.stop_signal)
                return 0
            self.poll_commands()
            self.work_orders()
            now = time.monotonic()
            if now >= self.next_holdings:
                self.holdings_line()
            if cfg.prices_interval > 0 and now >= self.next_prices:
                self.prices_snapshot()
            working = any(order.working for order in self.orders.values())
            if (
                cfg.idle_timeout > 0
                and not working
                and now - self.last_activity >= cfg.idle_timeout
                and not self.desk_alive()
            ):
                self.stop("idle")
                return 0
            wakeup.wait(self.due_in(time.monotonic()))


def report_config_error(config_path: Path, message: str) -> None:
    """Best effort: put a config error into the events file too, if the config names one."""
    try:
        config_path = config_path.resolve()
        params = json.loads(config_path.read_text(encoding="utf-8-sig"))["parameters"]
        events = Path(str(params["events-file"]))
        events = events if events.is_absolute() else config_path.parent / events
        line = {
            "type": "engine",
            "status": "error",
            "run_id": str(params.get("run-id") or ""),
            "time": utc_now_iso(),
            "engine": ENGINE_NAME,
            "pid": os.getpid(),
            "message": message,
        }
        data = json.dumps(line).encode("utf-8") + b"\n"
        if events.exists() and events.stat().st_size > 0:
            with open(events, "rb") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    data = b"\n" + data  # close a torn line first, as at a normal start
        with open_events_for_append(events) as handle:
            handle.write(data)
    except (OSError, ValueError, TypeError, KeyError):
        pass  # nothing usable in the config: stderr (engine.log) already has the reason


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: load the config, run the engine, report a crash as an engine error line."""
    parser = argparse.ArgumentParser(
        prog="python -m execution.simulator",
        description="Built-in simulator engine (LEAN at the file boundary).",
    )
    parser.add_argument("--config", required=True, type=Path, help="the engine's config.json")
    args = parser.parse_args(argv)
    try:
        config = SimulatorConfig.load(args.config)
    except (OSError, ValueError, TypeError) as exc:
        warn(f"cannot load config {args.config}: {exc}")
        report_config_error(args.config, f"cannot load config: {type(exc).__name__}: {exc}")
        return 2
    engine = Simulator(config)
    handler: Callable[[int, FrameType | None], None] = engine.request_stop
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    try:
        return engine.run()
    except Exception as exc:  # any crash must still leave an error line for tradedesk
        traceback.print_exc()
        try:
            engine.engine_line("error", message=f"{type(exc).__name__}: {exc}")
        except Exception as write_exc:  # the events file itself may be the problem
            warn(f"could not write the error line: {write_exc}")
        return 1
