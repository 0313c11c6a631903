"""The LEAN algorithm's brackets, through its recorder: legs placed on the entry's fills (sized to what filled,
grown with an update its UpdateSubmitted line marks `bracket_resize`), one-cancels-other on the leg's own fill
event, a canceled entry cancelling its legs; from tradedesk's order command (Bracket as JSON text, since LEAN
sets a nested object on a Python command as a Dictionary of JObjects: Common/Python/CommandPythonWrapper.cs
52-64@24863901) and from the start intent alike."""

from __future__ import annotations

import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution.contract import bracket_contract
from execution.ingest.lines import parse_event
from tests.execution.lean.fake_lean import OrderStatus as LeanStatus
from tests.execution.lean.fake_lean import lean, order_event, read_lines, workdir, write_intent
from tests.execution.lean.test_order_properties import command, started

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

LEGS = {
    "take_profit": {"tag": "oi_b.tp", "price": Decimal("195.5")},
    "stop_loss": {"tag": "oi_b.sl", "price": Decimal("185.25")},
}


def fill(algo: Any, order_id: int, *, total: float, part: float, final: bool, event_id: int) -> None:
    """LEAN's fill event of an order: the ticket's QuantityFilled first, then OnOrderEvent."""
    algo.transactions.tickets[order_id].quantity_filled = total
    status = LeanStatus.FILLED if final else LeanStatus.PARTIALLY_FILLED
    algo.on_order_event(order_event(order_id=order_id, id=event_id, status=status, fill_quantity=part,
                                    fill_price=190.0))  # fmt: skip


def lines_of(workdir: Path, tag: str) -> list[dict[str, Any]]:
    return [line for line in read_lines(workdir) if line.get("tag") == tag]


def test_the_command_bracket_places_legs_on_fills_and_grows_them_with_marked_resizes(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    payload = command(quantity=10, tag="oi_b", bracket=bracket_contract(LEGS))
    assert isinstance(payload["Bracket"], str)
    assert algo.run_callback_command(payload) is True
    entry = 1
    fill(algo, entry, total=4, part=4, final=False, event_id=1)
    placed = algo.orders_placed()[1:]
    assert placed == [
        ("limit_order", "AAPL", -4.0, 195.5, "oi_b.tp"),
        ("stop_market_order", "AAPL", -4.0, 185.25, "oi_b.sl"),
    ]
    take, stop = 2, 3
    fill(algo, entry, total=10, part=6, final=True, event_id=2)
    assert algo.transactions.tickets[take].quantity == algo.transactions.tickets[stop].quantity == -10.0
    # LEAN answers the resize with UpdateSubmitted: the line says it was the algorithm's own.
    algo.on_order_event(order_event(order_id=take, id=2, status=LeanStatus.UPDATE_SUBMITTED))
    (resized,) = [line for line in lines_of(workdir, "oi_b.tp") if line["status"] == "UpdateSubmitted"]
    assert resized["bracket_resize"] is True
    assert parse_event(resized).bracket_resize is True  # the ingest takes it (never confirms a modify)


def test_a_take_profit_fill_cancels_the_stop_loss_at_once_and_a_partial_one_shrinks_it(
    lean: types.ModuleType, workdir: Path
) -> None:
    intent = write_intent(workdir, order_intent_id="oi_b", quantity=10, order_type="MKT",
                          bracket=bracket_contract(LEGS))  # fmt: skip
    algo = started(lean, workdir, intent)
    entry, take, stop = 1, 2, 3
    fill(algo, entry, total=10, part=10, final=True, event_id=1)
    fill(algo, take, total=3, part=3, final=False, event_id=1)
    assert algo.transactions.tickets[stop].quantity == -7.0  # what is left to protect
    fill(algo, take, total=10, part=7, final=True, event_id=2)
    assert algo.transactions.tickets[stop].canceled == ["one-cancels-other: the take_profit filled"]
    assert algo.transactions.tickets[take].canceled == []


def test_a_canceled_entry_cancels_its_placed_legs_and_places_none_afterwards(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    assert algo.run_callback_command(command(quantity=10, tag="oi_b", bracket=bracket_contract(LEGS))) is True
    fill(algo, 1, total=2, part=2, final=False, event_id=1)
    algo.on_order_event(order_event(order_id=1, id=2, status=LeanStatus.CANCELED))
    assert [algo.transactions.tickets[pk].canceled for pk in (2, 3)] == [
        ["Canceled with its bracket's entry"]
    ] * 2
    fill(algo, 1, total=3, part=1, final=False, event_id=3)  # a late fill report: nothing placed or grown
    assert len(algo.orders_placed()) == 3 and algo.transactions.tickets[2].quantity == -2.0


@pytest.mark.parametrize(
    "bracket",
    [
        '{"take_profit": {"tag": "", "limit_price": 1}}',
        '{"stop_loss": {"tag": "x", "stop_price": -1}}',
        "not json",
    ],
)
def test_a_bad_bracket_refuses_the_order_with_its_invalid_line(
    lean: types.ModuleType, workdir: Path, bracket: str
) -> None:
    algo = started(lean, workdir)
    payload = {**command(tag="oi_bad"), "Bracket": bracket}
    assert algo.run_callback_command(payload) is False
    assert algo.orders_placed() == []
    (line,) = lines_of(workdir, "oi_bad")
    assert line["status"] == "Invalid" and "racket" in line["message"]
