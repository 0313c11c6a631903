"""The algorithm's prices and account snapshots, built from LEAN's portfolio and securities, replaced whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from AlgorithmImports import Resolution, TradeBar

from .snapshots import ACCOUNT_FILE, PRICES_FILE, account_snapshot, last_close, prices_snapshot, replace_json

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Symbol


class AccountFiles:
    """Writes prices.json and account.json beside the events file; an error becomes an engine error line."""

    def __init__(
        self, algorithm: QCAlgorithm, *, folder: Path, run_id: str, error: Callable[[str], None]
    ) -> None:
        self.algorithm = algorithm
        self.folder = folder
        self.run_id = run_id
        self.error = error
        self.closes: dict[str, tuple[str, float | None]] = {}  # symbol -> (exchange date, previous close)

    def write_prices(self) -> None:
        """Replace prices.json with the prices of held symbols, of symbols of open orders and of every
        subscribed security (AddSecurityCommand, the ticket's quotes); one without a price is left out."""
        algorithm = self.algorithm
        try:
            wanted = {symbol for symbol, holding in algorithm.portfolio.items() if holding.quantity != 0}
            wanted |= {order.symbol for order in algorithm.transactions.get_open_orders()}
            held = set(wanted)
            wanted |= set(algorithm.securities.keys())
            quotes = []
            closes: dict[str, float | None] = {}
            for symbol in wanted:
                security = algorithm.securities[symbol]
                quotes.append((symbol.value, security.price, security.bid_price, security.ask_price))
                if symbol in held:
                    closes[symbol.value] = self._previous_close(symbol, security)
            snapshot = prices_snapshot(
                run_id=self.run_id, quotes=quotes, time=algorithm.utc_time, previous_closes=closes
            )
            replace_json(self.folder / PRICES_FILE, snapshot)
        except Exception as exc:
            self.error(f"prices: {type(exc).__name__}: {exc}")
        self.write_account()

    def _previous_close(self, symbol: Symbol, security: Any) -> float | None:
        """The symbol's previous session close (day P&L): the last completed daily bar of LEAN's history,
        asked once per symbol and exchange date (one IB historical request a day), None when it has none."""
        day = str(getattr(security, "local_time", "") or "")[:10]
        cached = self.closes.get(symbol.value)
        if cached is not None and cached[0] == day:
            return cached[1]
        try:
            close = last_close(self.algorithm.history(TradeBar, symbol, 1, Resolution.DAILY))
        except Exception as exc:
            self.algorithm.log(f"tradedesk: no daily history for {symbol.value}: {type(exc).__name__}: {exc}")
            close = None
        self.closes[symbol.value] = (day, close)
        return close

    def write_account(self) -> None:
        """Replace account.json with the IB account's balances as LEAN's portfolio has them (on the prices'
        schedule: at most every prices-interval seconds)."""
        try:
            portfolio = self.algorithm.portfolio
            book = portfolio.cash_book
            snapshot = account_snapshot(
                run_id=self.run_id,
                time=self.algorithm.utc_time,
                currency=book.account_currency,
                cash=[(code, cash.amount) for code, cash in book.items()],
                net_liquidation=portfolio.total_portfolio_value,
                buying_power=portfolio.margin_remaining,
                total_margin_used=portfolio.total_margin_used,
                unrealized_pnl=portfolio.total_unrealized_profit,
            )
            replace_json(self.folder / ACCOUNT_FILE, snapshot)
        except Exception as exc:
            self.error(f"account: {type(exc).__name__}: {exc}")
