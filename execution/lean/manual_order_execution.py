"""tradedesk's LEAN algorithm: places the order of one intent file, then reports every order event.

LEAN loads this file (config `algorithm-location`) and runs `ManualOrderExecution` (`algorithm-type-name`) in
live mode. It speaks the engine contract (docs/lean.md, docs/engine-contract.md):

- parameters `intent-file` (the order to place at start, may be empty), `intents-folder` (always scanned
  for new intents' symbols), `events-file`, `run-id`;
- every order event becomes one JSON line in the events file: tag, status NAME, order id, event id, run id,
  symbol, UTC time, this event's absolute fill quantity and price, fee, message. Orders that LEAN places from
  OrderCommand files (FileCommandHandler) reach `on_order_event` the same way, with their Tag;
- engine lines (started / stopped / error) and holdings lines for tradedesk's reconciliation: the first one
  (`"source": "broker"`) right after setup, when LEAN has just read IB's holdings
  (Engine/Setup/BrokerageSetupHandler.cs 420 at QuantConnect/Lean 24863901); later ones (`"source": "lean"`)
  are LEAN's own fills since then, because LEAN syncs only cash with IB afterwards
  (Engine/TransactionHandlers/BrokerageTransactionHandler.cs 733-738).
- a prices snapshot `prices.json` beside the events file, replaced atomically every `prices-interval`
  seconds (parameter), with the last / bid / ask of held symbols and of symbols of open orders (not lines:
  the events file does not grow with prices), and on the same schedule the account snapshot `account.json`
  (cash per currency, buying power, net liquidation, margin used, unrealised P&L from `Portfolio`).

LEAN refuses orders for a symbol it has no price for ("There is no data for this symbol yet",
Algorithm/QCAlgorithm.Trading.cs 1150), so initial prices are seeded (AlgorithmSettings.cs 200: off by
default), the intent's order is placed once its symbol has a price, and the symbols of recent intents are
subscribed so that OrderCommands for them can be placed.

A market order while the exchange is closed follows `market_order_route` (the same rule as
execution/contract/market_hours.py, which the algorithm cannot import: LEAN loads it on its own).

Import only from `AlgorithmImports` (LEAN's module; `quantconnect-stubs` types it for mypy) and the companion
package `tradedesk_algorithm/` beside this file (one concern a module: intents, commands, placement, brackets and the bracket desk, lines,
the events writer, snapshots and the account files, market hours). Nothing in tradedesk imports them at runtime: the stubs have no code.
The line-building logic is in plain functions so it can be tested without LEAN.
"""

from __future__ import annotations

import contextlib
import threading
import time as _time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from AlgorithmImports import (
    BrokerageMessageType,
    OrderType,
    QCAlgorithm,
    Resolution,
    UpdateOrderFields,
)

if TYPE_CHECKING:
    from AlgorithmImports import BrokerageMessageEvent, OrderEvent, OrderTicket, Slice, Symbol

# LEAN imports this file as the top-level module `manual_order_execution`, its file name (AlgorithmFactory/Loader.cs
# :166-173, Python/Wrappers/AlgorithmPythonWrapper.cs:102@24863901), with this folder first on sys.path
# (Queues/JobQueue.cs:276-279 passes it to PythonInitializer.AddAlgorithmLocationPath, which keeps it ahead of every
# path added later: Common/Python/PythonInitializer.cs:101-176): there the companion package is the top-level
# `tradedesk_algorithm` of this folder. tradedesk's tests and mypy import this file as
# execution.lean.manual_order_execution, where the same files are its subpackage. No ImportError fallback, so no other
# module is ever taken for it (tests/execution/lean/test_lean_import.py imports it as LEAN does).
if TYPE_CHECKING or __package__:
    from .tradedesk_algorithm import (
        account_files,
        bracket_desk,
        brackets,
        commands,
        intents,
        lines,
        market_hours,
        placement,
        snapshots,
        writer,
    )
else:
    from tradedesk_algorithm import (
        account_files,
        bracket_desk,
        brackets,
        commands,
        intents,
        lines,
        market_hours,
        placement,
        snapshots,
        writer,
    )

HOLDINGS_EVERY = timedelta(minutes=1)
INTENT_SCAN_EVERY = timedelta(seconds=5)
# Symbols of intents younger than this are subscribed (IB allows ~100 market data lines by default).
RECENT_INTENT_SECONDS = 3 * 24 * 3600
MAX_SUBSCRIPTIONS = 80
WAITING_NOTICE_AFTER = timedelta(minutes=2)


class ManualOrderExecution(QCAlgorithm):
    """Places the intent's order on its symbol's first price and writes the contract's lines."""

    _run_id: str
    _events_path: Path
    _intents_dir: Path | None
    _lock: threading.Lock
    _place_lock: threading.Lock
    _symbols: dict[str, Symbol]
    _seen_intents: set[str]
    _pending: intents.Intent | None
    _pending_since: datetime | None
    _waiting_noticed: bool
    _max_line_bytes: int
    _holdings_snapshots: int
    _update_answers: dict[int, int]
    _brackets: bracket_desk.BracketDesk
    _account_files: account_files.AccountFiles
    _trailing_stops: dict[int, int | float]  # order id -> the stop last reported

    def initialize(self) -> None:
        """Read the parameters, close a torn line, say started, subscribe, schedule.

        The order is not placed here: LEAN refuses orders while the algorithm is warming up (it is until
        initialization is over) and for a security without data, so it waits for the first price.
        """
        self._lock = threading.Lock()
        self._place_lock = threading.Lock()
        self._symbols = {}
        self._seen_intents = set()
        self._pending = None
        self._pending_since = None
        self._waiting_noticed = False
        self._run_id = self.get_parameter("run-id") or ""
        self._max_line_bytes = writer.line_cap(self.get_parameter("max-line-bytes"))
        self._holdings_snapshots = 0
        self._update_answers = {}
        self._brackets = bracket_desk.BracketDesk(self)
        self._trailing_stops = {}
        events_file = self.get_parameter("events-file") or ""
        self._events_path = Path(events_file or writer.EVENTS_FILE).resolve()
        self._account_files = account_files.AccountFiles(
            self, folder=self._events_path.parent, run_id=self._run_id, error=self._error
        )
        intent_file = self.get_parameter("intent-file") or ""
        # The intents folder is a parameter of its own: a run started without an order (`engine start`)
        # still subscribes the symbols of new intents. Before it, the folder came only from the intent file,
        # so such a run subscribed nothing and LEAN refused every OrderCommand for a symbol it did not hold
        # (MissingSecurity: Algorithm/QCAlgorithm.Trading.cs:1059-1063@24863901).
        intents_folder = self.get_parameter("intents-folder") or ""
        if intents_folder:
            self._intents_dir = Path(intents_folder).resolve()
        else:
            self._intents_dir = Path(intent_file).resolve().parent if intent_file else None

        # Without a seeded price every order waits for the first trade (overnight, weekends: for hours).
        self.settings.seed_initial_prices = True
        # tradedesk's order commands (CallbackCommand of this Type: QCAlgorithm.Python.cs:1917-1928@24863901).
        commands.TradedeskOrderCommand.algorithm = self
        self.add_command(commands.TradedeskOrderCommand)
        commands.TradedeskUpdateCommand.algorithm = self
        self.add_command(commands.TradedeskUpdateCommand)
        self._events_path.parent.mkdir(parents=True, exist_ok=True)
        if writer.close_torn_line(self._events_path):
            self.log(f"events file {self._events_path} ended in a torn line; closed it")
        self._write(
            lines.engine_line(
                "started", run_id=self._run_id, intent_file=intent_file, live_mode=bool(self.live_mode)
            )
        )
        if not events_file:
            self._error(f"parameter events-file is missing; writing to {self._events_path}")
        if not self.live_mode:
            self._error("not running in live mode: LEAN reads no command files")
        try:
            if intent_file:
                self._accept_intent(Path(intent_file))
            self._scan_intents(initial=True)
            self.schedule.on(
                self.date_rules.every_day(), self.time_rules.every(HOLDINGS_EVERY), self._every_minute
            )
            self.schedule.on(
                self.date_rules.every_day(), self.time_rules.every(INTENT_SCAN_EVERY), self._scan_intents
            )
            self.schedule.on(
                self.date_rules.every_day(),
                self.time_rules.every(snapshots.prices_interval(self.get_parameter("prices-interval"))),
                self._every_prices_interval,
            )

        except Exception as exc:
            self._error(f"initialize: {type(exc).__name__}: {exc}")

    def on_warmup_finished(self) -> None:
        """LEAN has loaded the brokerage's cash, holdings and open orders by now: the first holdings line (IB's
        truth), then the open-orders line (each reloaded order, for tradedesk to re-home by its broker id)."""
        try:
            self._write_holdings(source="broker")
            self._write_open_orders()
            self._place_pending()
        except Exception as exc:
            self._error(f"on_warmup_finished: {type(exc).__name__}: {exc}")

    def on_data(self, slice: Slice) -> None:
        """A price arrived: place the intent's order if it was waiting for one."""
        try:
            self._place_pending()
        except Exception as exc:
            self._error(f"on_data: {type(exc).__name__}: {exc}")

    def on_order_event(self, order_event: OrderEvent) -> None:
        """One contract line per LEAN order event (intent orders and OrderCommand orders alike)."""
        try:
            order = self.transactions.get_order_by_id(order_event.order_id)
            tag = (order.tag if order is not None else "") or ""
            fee = order_event.order_fee.value if order_event.order_fee is not None else None
            status = lines.status_name(order_event.status)
            # IB's Submitted always carries its boilerplate, so the notice is written whatever the text.
            message = lines.order_message(
                order_event.message, status=status, market_on_open=lines.is_market_on_open(order)
            )
            answer = self._update_answers.get(int(order_event.order_id), 0)
            refused = self._update_refused(int(order_event.order_id), status)
            resize = status == "UpdateSubmitted" and self._brackets.is_resize(
                int(order_event.order_id), answer
            )
            line = lines.event_line(
                tag=str(tag),
                status=status,
                order_id=int(order_event.order_id),
                event_id=int(order_event.id),
                run_id=self._run_id,
                symbol=str(order_event.symbol.value),
                time=order_event.utc_time,
                fill_quantity=order_event.fill_quantity,
                fill_price=order_event.fill_price,
                fee=fee.amount if fee is not None else None,
                fee_currency=str(fee.currency or "") if fee is not None else "",
                message=message,
                broker_ids=lines.order_broker_ids(order),
            )
            if refused:
                line[lines.UPDATE_REFUSED_KEY] = True
            if resize:
                line[brackets.BRACKET_RESIZE_KEY] = True
            if getattr(order, "type", None) == OrderType.TRAILING_STOP:
                # The order's current stop (LEAN's OrderEvent.StopPrice: "The current stop price").
                stop = lines.json_number(getattr(order, "stop_price", None))
                if stop is not None and stop > 0:
                    line["stop_price"] = stop
                    self._trailing_stops[int(order.id)] = stop
            self._write(line)
            # After the event's own line, at once: a bracket's legs follow the fill (one-cancels-other).
            if self._brackets.groups:
                self._brackets.order_event(str(tag), int(order_event.order_id), status)
        except Exception as exc:
            self._error(f"on_order_event: {type(exc).__name__}: {exc}")

    def _report_trailing_stops(self) -> None:
        """A line for every open trailing stop whose stop moved (no event_id: LEAN's ids are its events', so
        the line's identity is the hash of its JSON, time and stop included)."""
        try:
            for order, stop in lines.trailing_stop_moves(
                self.transactions.get_open_orders(), self._trailing_stops
            ):
                line = lines.event_line(
                    tag=str(order.tag or ""),
                    status=lines.moved_status(order),
                    order_id=int(order.id),
                    event_id=0,
                    run_id=self._run_id,
                    symbol=str(order.symbol.value),
                    time=datetime.now(UTC),
                    fill_quantity=0,
                    fill_price=0,
                    fee=0,
                    fee_currency="",
                    message=f"trailing stop moved to {stop}",
                    broker_ids=lines.order_broker_ids(order),
                )
                del line["event_id"]
                line["stop_price"] = stop
                self._write(line)
        except Exception as exc:
            self._error(f"trailing stops: {type(exc).__name__}: {exc}")

    def _update_refused(self, order_id: int, status: str) -> bool:
        """Count the broker's answers to the order's updates: an Invalid while one is unanswered refuses it.

        Only the engine knows an update is in flight, so it marks the line; tradedesk never guesses it from
        its database at apply time (replay and arrival order stay as they are)."""
        if status not in ("UpdateSubmitted", "Invalid"):
            return False
        sent = placement.updates_sent(self.transactions.get_order_ticket(order_id))
        answered = self._update_answers.get(order_id, 0)
        if answered >= sent:
            return False
        self._update_answers[order_id] = answered + 1
        return status == "Invalid"

    def on_brokerage_message(self, message_event: BrokerageMessageEvent) -> None:
        """Brokerage errors, disconnects and required actions become engine error lines (information stays in
        LEAN's log). On an Error or ActionRequired LEAN ends the run right after this (no stopped line:
        DefaultBrokerageMessageHandler.cs:92-96,168-171, Engine.cs:243-250@24863901); the supervisor records why."""
        try:
            if message_event.type in (
                BrokerageMessageType.ERROR,
                BrokerageMessageType.ACTION_REQUIRED,
                BrokerageMessageType.DISCONNECT,
            ):
                self._error(f"brokerage {message_event.code}: {message_event.message}")
        except Exception as exc:
            self._error(f"on_brokerage_message: {type(exc).__name__}: {exc}")

    def on_brokerage_disconnect(self) -> None:
        """The brokerage connection was lost (IB Gateway restart, network)."""
        self._error("brokerage disconnected")

    def on_brokerage_reconnect(self) -> None:
        """The brokerage connection is back."""
        try:
            self._write(lines.engine_line("reconnected", run_id=self._run_id))
        except Exception as exc:
            self._error(f"on_brokerage_reconnect: {type(exc).__name__}: {exc}")

    def on_end_of_algorithm(self) -> None:
        """A last holdings line, then stopped."""
        try:
            self._write_holdings()
        except Exception as exc:
            self._error(f"on_end_of_algorithm: {type(exc).__name__}: {exc}")
        try:
            self._write(lines.engine_line("stopped", run_id=self._run_id))
        except Exception as exc:
            self.error(f"tradedesk: could not write the stopped line: {exc}")

    def _accept_intent(self, path: Path) -> None:
        """Read the start intent and subscribe its symbol; a refused intent is reported as Invalid."""
        try:
            intent = intents.read_intent(path)
        except intents.IntentError as exc:
            if exc.tag:
                self._report_invalid(exc.tag, "", str(exc), order_id=0)
            else:
                self._error(str(exc))
            return
        self._subscribe(intent.symbol)
        self._pending = intent
        self._pending_since = datetime.now(UTC)

    def _place_pending(self) -> None:
        """Place the waiting intent's order once LEAN has a price for its symbol (LEAN refuses it before)."""
        with self._place_lock:  # on_data and scheduled events may run on different threads: place once
            intent = self._pending
            if intent is None or self.is_warming_up:
                return
            symbol = self._symbols.get(intent.symbol)
            if symbol is None:
                return
            if not self.securities[symbol].has_data:
                self._notice_waiting(intent)
                return
            self._pending = None
        try:
            route = ""
            if intent.order_type == "MKT":
                route, message = placement.market_route(self, symbol)
                if route == market_hours.REFUSED:
                    self._report_invalid(intent.tag, intent.symbol, message, order_id=0)
                    return
            ticket = self._submit(symbol, intent, route)
        except Exception as exc:  # the order was taken off the wait list: its refusal must reach tradedesk
            self._report_invalid(intent.tag, intent.symbol, f"{type(exc).__name__}: {exc}", order_id=0)
            return
        self._check_ticket(ticket, intent)

    def _submit(self, symbol: Symbol, intent: intents.Intent, route: str) -> OrderTicket:
        """Submit the intent's order; a bracket's legs are armed first, so the entry's first fill, on any
        thread, finds them."""
        properties = placement.order_properties(intent)
        if intent.bracket:
            self._brackets.arm(symbol, intent, properties)
        return placement.submit_order(self, symbol, intent, route, properties=properties)

    def place_command(self, command: Any) -> bool:
        """Place a commands.TradedeskOrderCommand's order (LEAN's command thread); False, with the order's Invalid
        line when it names one, when it cannot be placed (the command result says Success false)."""
        try:
            intent, route = commands.command_intent(command)
        except intents.IntentError as exc:
            if exc.tag:
                self._report_invalid(exc.tag, "", str(exc), order_id=0)
            else:
                self._error(f"order command: {exc}")
            return False
        try:
            self._subscribe(intent.symbol)
            symbol = self._symbols.get(intent.symbol)
            if symbol is None:
                raise intents.IntentError(
                    f"no subscription for {intent.symbol} (at most {MAX_SUBSCRIPTIONS})"
                )
            ticket = self._submit(symbol, intent, route)
        except Exception as exc:
            self._report_invalid(intent.tag, intent.symbol, f"{type(exc).__name__}: {exc}", order_id=0)
            return False
        return self._check_ticket(ticket, intent)

    def update_command(self, command: Any) -> bool:
        """Update an order of this run from a commands.TradedeskUpdateCommand (LEAN's command thread), as LEAN's
        UpdateOrderCommand.Run does (UpdateOrderCommand.cs:59-68@24863901) through the order's ticket
        (OrderTicket.Update: Common/Orders/OrderTicket.cs:338-342), so _update_refused counts it as any update."""
        order_id = lines.json_number(getattr(command, "order_id", None))
        ticket = self.transactions.get_order_ticket(int(order_id)) if isinstance(order_id, int) else None
        if ticket is None:
            self._error(f"update command: no order {getattr(command, 'order_id', None)!r} in this run")
            return False
        fields = UpdateOrderFields()
        for name in ("quantity", "limit_price", "stop_price", "trigger_price", "trailing_amount"):
            value = lines.json_number(getattr(command, name, None))
            if value is not None:
                setattr(fields, name, float(value))  # a decimal? of LEAN, as the resizes pass it
        try:
            response = ticket.update(fields)
        except Exception as exc:
            self._error(f"update command for order {order_id}: {type(exc).__name__}: {exc}")
            return False
        return bool(response is not None and response.is_success)

    def _check_ticket(self, ticket: OrderTicket, intent: intents.Intent) -> bool:
        """LEAN's pre-order checks refuse an order without any order event: report that as Invalid (False)."""
        response = ticket.get_most_recent_order_response() if ticket is not None else None
        if ticket is None or (response is not None and response.is_error):
            message = str(response.error_message) if response is not None else "LEAN returned no order ticket"
            order_id = int(ticket.order_id) if ticket is not None else 0
            self._report_invalid(intent.tag, intent.symbol, message, order_id=max(order_id, 0))
            return False
        return True

    def _report_invalid(self, tag: str, symbol: str, message: str, *, order_id: int) -> None:
        """An Invalid event for an order LEAN never created (event id 0: LEAN's own event ids start at 1)."""
        self._write(
            lines.event_line(
                tag=tag,
                status="Invalid",
                order_id=order_id,
                event_id=0,
                run_id=self._run_id,
                symbol=symbol,
                time=datetime.now(UTC),
                fill_quantity=0,
                fill_price=0,
                fee=0,
                fee_currency="",
                message=message,
            )
        )

    def _notice_waiting(self, intent: intents.Intent) -> None:
        """Say once in the events file (an engine line) that the intent's order still waits for a price."""
        since = self._pending_since
        if self._waiting_noticed or since is None or datetime.now(UTC) - since < WAITING_NOTICE_AFTER:
            return
        self._waiting_noticed = True
        self._write(
            lines.engine_line(
                "waiting",
                run_id=self._run_id,
                order_intent_id=intent.tag,
                message=f"no price for {intent.symbol} yet (market closed or no IB market data subscription)",
            )
        )

    def _subscribe(self, ticker: str) -> None:
        """Add the equity (second bars, so an order waits seconds for its first price, not a minute)."""
        if ticker in self._symbols or len(self._symbols) >= MAX_SUBSCRIPTIONS:
            return
        self._symbols[ticker] = self.add_equity(ticker, Resolution.SECOND).symbol

    def _scan_intents(self, initial: bool = False) -> None:
        """Subscribe the symbols of new intent files, so OrderCommands for them find a security with data."""
        try:
            if self._intents_dir is None:
                return
            newer_than = _time.time() - RECENT_INTENT_SECONDS if initial else 0.0
            for ticker in intents.intent_symbols(
                self._intents_dir, self._seen_intents, newer_than=newer_than
            ):
                self._subscribe(ticker)
        except Exception as exc:
            self._error(f"scan intents: {type(exc).__name__}: {exc}")

    def _every_minute(self) -> None:
        """The minute holdings line (and another chance for a waiting order)."""
        try:
            self._write_holdings()
            self._place_pending()
        except Exception as exc:
            self._error(f"every minute: {type(exc).__name__}: {exc}")

    def _write_holdings(self, source: str = "lean") -> None:
        """The account's holdings line, in parts of one snapshot when it is longer than the line cap."""
        positions = [
            (symbol.value, holding.quantity, holding.average_price)
            for symbol, holding in self.portfolio.items()
        ]
        self._holdings_snapshots += 1
        parts = lines.split_holdings_line(
            lines.holdings_line(run_id=self._run_id, positions=positions, source=source),
            snapshot=self._holdings_snapshots,
            max_line_bytes=self._max_line_bytes,
        )
        # One lock for all parts: no order event from the brokerage's thread lands between them.
        with self._lock:
            for part in parts:
                writer.append_line(self._events_path, part)

    def _write_open_orders(self) -> None:
        """The open-orders line (in several lines when longer than the cap), written once, after warm-up."""
        line = lines.open_orders_line(run_id=self._run_id, orders=self.transactions.get_open_orders())
        with self._lock:
            for part in lines.split_open_orders_line(line, max_line_bytes=self._max_line_bytes):
                writer.append_line(self._events_path, part)

    def _every_prices_interval(self) -> None:
        """The snapshots, and a line for each trailing stop that moved (looked for as often as prices change)."""
        self._account_files.write_prices()
        self._report_trailing_stops()

    def _error(self, message: str) -> None:
        """An engine error line, and the message in LEAN's own log; never raises."""
        with contextlib.suppress(Exception):
            self.error(f"tradedesk: {message}")
        with contextlib.suppress(Exception):
            self._write(lines.engine_line("error", run_id=self._run_id, message=message))

    def _write(self, payload: dict[str, Any]) -> None:
        # LEAN calls on_order_event from the brokerage's thread and scheduled events from its own.
        with self._lock:
            writer.append_line(self._events_path, payload)
