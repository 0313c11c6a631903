"""The LEAN algorithm's order messages: the IB plugin's boilerplate dropped, the MarketOnOpen notice kept."""

from __future__ import annotations

import json
import re
import types
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.execution.lean.fake_lean import (
    NY_SESSION,
    BrokerageMessageType,
    OrderStatus,
    OrderType,
    companion,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
)
from tests.execution.lean.test_placing_intents import _closed_market_order

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

REPO_ROOT = Path(__file__).resolve().parents[3]

IB_MESSAGES = REPO_ROOT / "tests" / "fixtures" / "ib" / "order-event-messages-excerpt.json"


def ib_boilerplate() -> set[str]:
    """The fixed messages the IB plugin puts on its order events (InteractiveBrokersBrokerage.cs 2427, 2861,
    1664-1668@d154917), read from the excerpt."""
    text = "\n".join(line for e in json.loads(IB_MESSAGES.read_text())["excerpts"] for line in e["text"])
    return set(re.findall(r'(?:OrderFee\.Zero|orderFee), "([^"]+)"\)', text)) | set(
        re.findall(r'Message = "([^"]+)"', text)
    )


def test_the_algorithm_drops_exactly_the_plugins_boilerplate(lean: types.ModuleType) -> None:
    assert ib_boilerplate() == {
        "Interactive Brokers Order Event",
        "Interactive Brokers Order Fill Event",
        "Lean Generated Interactive Brokers Order Event",
    }
    assert ib_boilerplate() == companion("lines").BROKER_BOILERPLATE


def test_a_market_on_open_submission_shows_the_notice_despite_ibs_message(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 25, 8, 0), NY_SESSION)
    algo.on_order_event(
        order_event(order_id=1, id=1, status=OrderStatus.SUBMITTED, message="Interactive Brokers Order Event")
    )
    assert read_lines(workdir)[-1]["message"] == companion("market_hours").MOO_MESSAGE


def test_a_market_on_open_order_command_shows_the_notice_too(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    # An OrderCommand with OrderType MarketOnOpen: LEAN placed it, the algorithm sees only its events.
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1", type=OrderType.MARKET_ON_OPEN)
    for message in ("Lean Generated Interactive Brokers Order Event", "accepted by IB"):
        algo.on_order_event(order_event(order_id=7, id=1, status=OrderStatus.SUBMITTED, message=message))
    assert [line["message"] for line in read_lines(workdir) if line.get("tag")] == [
        companion("market_hours").MOO_MESSAGE,
        f"{companion('market_hours').MOO_MESSAGE}; accepted by IB",
    ]


@pytest.mark.parametrize(
    ("status", "message", "written"),
    [
        (OrderStatus.SUBMITTED, "Interactive Brokers Order Event", ""),
        (OrderStatus.CANCELED, "Interactive Brokers Order Event", ""),
        (OrderStatus.FILLED, "Interactive Brokers Order Fill Event", ""),
        (OrderStatus.SUBMITTED, "Lean Generated Interactive Brokers Order Event", ""),
        (
            OrderStatus.INVALID,
            "Order rejected - reason:Price is too far",
            "Order rejected - reason:Price is too far",
        ),
    ],
)
def test_the_plugins_boilerplate_is_dropped_from_order_messages(
    lean: types.ModuleType, workdir: Path, status: OrderStatus, message: str, written: str
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.transactions.orders[3] = SimpleNamespace(id=3, tag="oi_4_9_2", type=OrderType.LIMIT)
    algo.on_order_event(order_event(order_id=3, id=2, status=status, message=message))
    assert read_lines(workdir)[-1]["message"] == written


def test_a_brokerage_message_that_ends_the_run_is_an_error_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    """ActionRequired (a 2FA not approved: InteractiveBrokersBrokerage.cs:5261-5270@d154917) ends the run in
    LEAN (DefaultBrokerageMessageHandler.cs:168-171@24863901): the algorithm still writes it down first."""
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    message = "2FA authentication confirmation required to reconnect."
    algo.on_brokerage_message(
        SimpleNamespace(type=BrokerageMessageType.ACTION_REQUIRED, code="2FAAuthRequired", message=message)
    )
    assert [(line["status"], line["message"]) for line in read_lines(workdir)[1:]] == [
        ("error", f"brokerage 2FAAuthRequired: {message}")
    ]
