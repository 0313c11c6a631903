"""One rule for market orders outside regular hours, held by one table against both copies of it.

The rule follows LEAN on IB, read in QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4:
MarketOrder converts a closed-market equity order into MarketOnOpen (Algorithm/QCAlgorithm.Trading.cs
245-258), and IB accepts MarketOnOpen from the close until two minutes before the open
(Common/Brokerages/InteractiveBrokersBrokerageModel.cs 352-355, BrokerageExtensions.cs 128-170: TimeOnly
IsBetween wraps midnight; no regular session that day means no limit). The LEAN algorithm cannot import
execution.contract.market_hours (LEAN loads it on its own), so it carries a copy; this table runs against both.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from execution.actions import order_dispatch
from execution.contract import market_hours
from execution.engine import process as engines
from orders.models import OrderStatus
from tests.execution.lean.fake_lean import MODULE, companion, fake_algorithm_imports, forget_algorithm
from tests.factories import ProjectFactory, TradeOrderFactory

NY = (timedelta(hours=9, minutes=30), timedelta(hours=16))
EARLY_CLOSE = (timedelta(hours=9, minutes=30), timedelta(hours=13))
MOO, MKT, REFUSED = "MarketOnOpen", "Market", "Refused"


def at(text: str) -> timedelta:
    parts = [int(p) for p in text.split(":")] + [0]
    return timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


TABLE = [
    (True, "11:00", NY, MKT),
    (False, "00:30", NY, MOO),
    (False, "08:00", NY, MOO),
    (False, "09:27:59", NY, MOO),
    (False, "09:28", NY, REFUSED),
    (False, "09:29:59", NY, REFUSED),
    (False, "16:00", NY, MOO),
    (False, "20:00", NY, MOO),
    (False, "12:00", None, MOO),  # a weekend or holiday: no session, IB takes MarketOnOpen all day
    (False, "14:00", EARLY_CLOSE, MOO),
]


@pytest.fixture(scope="module")
def algorithm_rule() -> Iterator[Any]:
    """The algorithm's copy of the rule, imported against the fake AlgorithmImports."""
    saved = sys.modules.get("AlgorithmImports")
    sys.modules["AlgorithmImports"] = fake_algorithm_imports()
    forget_algorithm()
    importlib.import_module(MODULE)
    yield companion("market_hours").market_order_route
    forget_algorithm()
    if saved is None:
        sys.modules.pop("AlgorithmImports", None)
    else:
        sys.modules["AlgorithmImports"] = saved


@pytest.mark.parametrize(("exchange_open", "local", "session", "expected"), TABLE)
def test_both_copies_of_the_rule_agree_with_the_table(
    algorithm_rule: Any, exchange_open: bool, local: str, session: Any, expected: str
) -> None:
    ours = market_hours.market_order_route(exchange_open=exchange_open, local_time=at(local), session=session)
    theirs = algorithm_rule(exchange_open=exchange_open, local_time=at(local), session=session)
    assert ours == theirs
    assert ours[0] == expected
    if expected == REFUSED:
        assert ours[1].startswith("refused:") and "09:28" in ours[1]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        ("2026-11-25T13:29:00Z", MOO),  # 08:29 EST
        ("2026-11-25T14:29:00Z", REFUSED),  # 09:29 EST
        ("2026-11-25T15:00:00Z", MKT),  # 10:00 EST
        ("2026-07-15T13:29:00Z", REFUSED),  # 09:29 EDT: New York time, not a fixed UTC offset
        ("2026-11-28T15:00:00Z", MOO),  # Saturday
    ],
)
def test_us_equity_hours_in_new_york_time(utc: str, expected: str) -> None:
    assert market_hours.route_at(now=market_hours.clock(utc), hours="us-equity")[0] == expected
    assert market_hours.route_at(now=market_hours.clock(utc), hours="always")[0] == MKT


def test_clock_reads_a_fixed_time_or_now() -> None:
    assert market_hours.clock("2026-11-25T14:29:00Z") == datetime(2026, 11, 25, 14, 29, tzinfo=UTC)
    assert market_hours.clock("2026-11-25T14:29:00") == datetime(2026, 11, 25, 14, 29, tzinfo=UTC)
    assert market_hours.clock().tzinfo is not None


# ---------------------------------------------------------------------------------------------------------
# The command path: tradedesk applies the rule before writing an OrderCommand to a running engine
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def us_hours(settings: Any) -> Any:
    settings.TRADEDESK_ENGINE = "simulator"
    settings.TRADEDESK_SIM_MARKET_HOURS = "us-equity"
    settings.TRADEDESK_SIM_IDLE_TIMEOUT = 30
    return settings


def _running_engine() -> None:
    """Start the paper simulator with a limit order so the next order goes as a command."""
    order = TradeOrderFactory(
        project=ProjectFactory(mode="paper"), order_type="LMT", limit_price=1, quantity=1
    )
    assert order_dispatch(order_id=order.pk).detail.startswith("started engine run")


@pytest.mark.django_db
def test_command_path_sends_market_on_open_before_the_open(us_hours: Any) -> None:
    us_hours.TRADEDESK_SIM_CLOCK = "2026-11-25T13:00:00Z"  # 08:00 New York
    _running_engine()
    order = TradeOrderFactory(project=ProjectFactory(mode="paper"), quantity=2)

    result = order_dispatch(order_id=order.pk)

    # The engine accepted the command (its result file is read, then removed, by the dispatch itself).
    assert (result.outcome, result.detail) == ("dispatched", "command accepted"), result
    order.refresh_from_db()
    assert order.params["manual_execution"]["order_type"] == "MarketOnOpen"


@pytest.mark.django_db
def test_command_path_refuses_in_the_two_minutes_before_the_open(us_hours: Any) -> None:
    us_hours.TRADEDESK_SIM_CLOCK = "2026-11-25T14:29:00Z"  # 09:29 New York
    _running_engine()
    order = TradeOrderFactory(project=ProjectFactory(mode="paper"), quantity=2)

    result = order_dispatch(order_id=order.pk)

    order.refresh_from_db()
    assert result.outcome == "rejected"
    assert order.status == OrderStatus.REJECTED
    assert order.status_message.startswith("refused:")
    assert not engines.command_path("paper", engines.command_id_for(order.client_order_id)).exists()
