"""Built-in simulator engine: a stand-alone process that imitates LEAN at the file boundary.

Run as ``python -m execution.simulator --config <workdir>/config.json``. It reads the same launch config,
intent file and ``command*.json`` files a LEAN live engine would, and appends order events and holdings
lines to the events file in the engine contract's format (docs/engine-contract.md).

Standard library only on purpose: it is another process that meets tradedesk only through files, so it
must not import Django. Its one tradedesk import, `execution.contract` (market hours), is standard library
only too: the market-order rule outside regular hours must be the one tradedesk's command path uses.

Like LEAN (Launcher/Program.cs 98 at 24863901: Console.CancelKeyPress), SIGINT ends the run cleanly: a last
holdings line, then the stopped line. SIGTERM does the same here (LEAN has no SIGTERM handler).

Modules: common (constants, helpers), config, market (prices), account, orders (one order), fills (when and
at what price each type fills), lines (the events file and the snapshot files), book (the orders), loop
(intent, commands, lifecycle, main).
"""

from execution.simulator.account import Account
from execution.simulator.book import OrderBook
from execution.simulator.common import (
    ACCOUNT_FILE,
    InvalidCommand,
    encode_line,
    line_cap,
    open_events_for_append,
    split_holdings_line,
    universe_load,
)
from execution.simulator.config import SimulatorConfig
from execution.simulator.loop import Simulator, main
from execution.simulator.market import PriceBook
from execution.simulator.orders import Order

__all__ = [
    "ACCOUNT_FILE",
    "Account",
    "InvalidCommand",
    "Order",
    "OrderBook",
    "PriceBook",
    "Simulator",
    "SimulatorConfig",
    "encode_line",
    "line_cap",
    "main",
    "open_events_for_append",
    "split_holdings_line",
    "universe_load",
]
