"""One door per use case: the business step in one place, so that page, API, admin and commands behave the
same. The interfaces (tradedesk/) import execution only through these, execution.selectors and
execution.models (import-linter holds them to it).

place, mode (paper / live), modify (and clearing a refused update), cancel, cancel_all, close, liquidate,
halt (trading state), engine_halt, engine (stop, restart, start, check), resolve, dispatch, sweep, ingest,
events_files (rotate, replay), prune, preflight, demo (the simulator account of seeded positions), subscribe
(the one subscribe path), watch (the ingest watcher), push (changes and snapshots to the pages' streams).
What the interfaces need of the domain where no engine takes part is orders.doors.
"""

from execution.actions.cancel import CANCEL_REQUESTED, CancelResult, order_cancel_request, orders_cancel
from execution.actions.cancel_all import UNKNOWN_OUTCOME, orders_cancel_working
from execution.actions.close import CloseResult, project_close_positions
from execution.actions.demo import simulator_account_add
from execution.actions.desk_engine import desk_alive_touch, desk_engine_run
from execution.actions.dispatch import DATABASE_GONE, DispatchInterrupted, DispatchResult, order_dispatch
from execution.actions.engine import (
    EngineConfigError,
    EngineError,
    engine_restart,
    engine_start,
    engine_start_requested,
    engine_stop,
    engines_check,
)
from execution.actions.engine_halt import engine_halt_set
from execution.actions.events_files import events_file_rotate, events_files_for_replay, events_replay
from execution.actions.halt import project_trading_state_change
from execution.actions.ingest import ingest_before_read, ingest_execution_events, ingest_file
from execution.actions.liquidate import project_liquidate
from execution.actions.mode import project_set_mode
from execution.actions.modify import order_modify, order_modify_clear
from execution.actions.place import create_trade_order
from execution.actions.pnl import pnl_sample_all, pnl_samples_since
from execution.actions.preflight import run_preflight
from execution.actions.prune import execution_files_prune
from execution.actions.push import (
    account_version,
    change_token,
    prices_version,
    push_channel,
    push_enabled,
    snapshots_publish,
)
from execution.actions.quote import QuoteAnswer, quote_request, symbol_quotable
from execution.actions.resolve import order_resolve
from execution.actions.subscribe import symbol_subscribe
from execution.actions.sweep import SweepReport, closes_release, orders_sweep
from execution.actions.watch import ingest_watch, watch_once

__all__ = [
    "CANCEL_REQUESTED",
    "DATABASE_GONE",
    "UNKNOWN_OUTCOME",
    "CancelResult",
    "CloseResult",
    "DispatchInterrupted",
    "DispatchResult",
    "EngineConfigError",
    "EngineError",
    "QuoteAnswer",
    "SweepReport",
    "account_version",
    "change_token",
    "closes_release",
    "create_trade_order",
    "desk_alive_touch",
    "desk_engine_run",
    "engine_halt_set",
    "engine_restart",
    "engine_start",
    "engine_start_requested",
    "engine_stop",
    "engines_check",
    "events_file_rotate",
    "events_files_for_replay",
    "events_replay",
    "execution_files_prune",
    "ingest_before_read",
    "ingest_execution_events",
    "ingest_file",
    "ingest_watch",
    "order_cancel_request",
    "order_dispatch",
    "order_modify",
    "order_modify_clear",
    "order_resolve",
    "orders_cancel",
    "orders_cancel_working",
    "orders_sweep",
    "pnl_sample_all",
    "pnl_samples_since",
    "prices_version",
    "project_close_positions",
    "project_liquidate",
    "project_set_mode",
    "project_trading_state_change",
    "push_channel",
    "push_enabled",
    "quote_request",
    "run_preflight",
    "simulator_account_add",
    "snapshots_publish",
    "symbol_quotable",
    "symbol_subscribe",
    "watch_once",
]
