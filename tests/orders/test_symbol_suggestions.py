"""The ticket's symbol suggestions: the project's positions, then its recent orders, then the universe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orders.models import Project, TradeOrder
from orders.selectors import SUGGESTIONS_MAX, symbol_suggestions
from orders.services import apply_fill_to_order
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db

UNIVERSE = frozenset({"AAPL", "ABBV", "AMD", "AMZN", "MSFT", "MU"})


def holding(project: Project, symbol: str, quantity: int = 5) -> None:
    order: TradeOrder = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(quantity))  # type: ignore[assignment]
    apply_fill_to_order(order, quantity=quantity, price="10")


def symbols(project: Project, prefix: str, **kwargs: Any) -> list[str]:
    return [s.symbol for s in symbol_suggestions(project=project, prefix=prefix, universe=UNIVERSE, **kwargs)]


def test_positions_come_first_then_recent_orders_then_the_universe(project: Project) -> None:
    TradeOrderFactory(project=project, symbol="AXON")
    holding(project, "ARKK")
    assert symbols(project, "A") == ["ARKK", "AXON", "AAPL", "ABBV", "AMD", "AMZN"]


def test_a_position_is_offered_with_its_quantity(project: Project) -> None:
    holding(project, "ARKK", 7)
    (suggestion,) = symbol_suggestions(project=project, prefix="ARK", universe=UNIVERSE)
    assert (suggestion.source, suggestion.quantity) == ("position", Decimal(7))


def test_recent_orders_come_newest_first_and_once(project: Project) -> None:
    TradeOrderFactory(project=project, symbol="MRNA")
    TradeOrderFactory(project=project, symbol="MELI")
    TradeOrderFactory(project=project, symbol="MRNA")
    assert symbols(project, "M")[:2] == ["MRNA", "MELI"]
    assert symbols(project, "M").count("MRNA") == 1


def test_an_exact_match_comes_first(project: Project) -> None:
    holding(project, "MUX")
    assert symbols(project, "mu") == ["MU", "MUX"]


def test_another_projects_symbols_are_never_offered(project: Project, user: Any) -> None:
    other: Project = ProjectFactory(name="other", members=[user])  # type: ignore[assignment]
    holding(other, "ZZPOS")
    TradeOrderFactory(project=other, symbol="ZZORD")
    assert symbols(project, "ZZ") == []
    assert symbols(other, "ZZ") == ["ZZPOS", "ZZORD"]


def test_the_result_is_bounded(project: Project) -> None:
    universe = frozenset(f"A{n:03d}" for n in range(100))
    assert len(symbol_suggestions(project=project, prefix="A", universe=universe)) == SUGGESTIONS_MAX
    assert (
        len(symbol_suggestions(project=project, prefix="A", universe=universe, limit=500)) == SUGGESTIONS_MAX
    )
    assert len(symbol_suggestions(project=project, prefix="A", universe=universe, limit=3)) == 3


@pytest.mark.parametrize("hostile", ["%", "A%", "_", "A'--", "A" * 40, "1A", "A B", "\x00", "Ä"])
def test_input_that_is_no_symbol_prefix_suggests_nothing(project: Project, hostile: str) -> None:
    TradeOrderFactory(project=project, symbol="AAPL")
    assert symbols(project, hostile) == []


def test_an_empty_prefix_offers_the_projects_symbols_first(project: Project) -> None:
    holding(project, "ZZPOS")
    assert symbols(project, "")[0] == "ZZPOS"
