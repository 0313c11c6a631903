"""The ticket's preview: the price an order would trade at, its value and its distance from the reference
price the bands measure against."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orders.models import Project, TradeOrder
from orders.services import apply_fill_to_order, order_preview, price_reference
from orders.services.preview import HARD, LAST_FILL, MARKET, SOFT
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db


def filled(project: Project, symbol: str, price: str) -> None:
    order: TradeOrder = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(1))  # type: ignore[assignment]
    apply_fill_to_order(order, quantity=1, price=price)


def test_the_reference_is_the_fresh_market_price_before_the_last_fill(
    project: Project, market: dict[str, Decimal]
) -> None:
    filled(project, "AAPL", "180.00")
    market["AAPL"] = Decimal("190.25")
    reference = price_reference(project=project, symbol="AAPL")
    assert reference is not None
    assert (reference.price, reference.source) == (Decimal("190.25"), MARKET)


def test_without_a_market_price_the_reference_is_the_projects_last_fill(
    project: Project, market: dict[str, Decimal]
) -> None:
    filled(project, "MSFT", "410.45")
    reference = price_reference(project=project, symbol="MSFT")
    assert reference is not None
    assert (reference.price, reference.source) == (Decimal("410.45"), LAST_FILL)


def test_a_symbol_never_priced_nor_filled_has_no_reference(
    project: Project, market: dict[str, Decimal]
) -> None:
    assert price_reference(project=project, symbol="ZZZZ") is None
    preview = order_preview(project=project, symbol="ZZZZ", quantity=Decimal(5), order_type="MKT")
    assert (preview.price, preview.value, preview.deviation_pct) == (None, None, None)


def test_a_market_order_is_valued_at_the_reference(project: Project, market: dict[str, Decimal]) -> None:
    market["AAPL"] = Decimal("190.25")
    preview = order_preview(project=project, symbol="AAPL", quantity=Decimal(20), order_type="MKT")
    assert (preview.price, preview.value) == (Decimal("190.25"), Decimal("3805.00"))
    assert (preview.deviation_pct, preview.ratio, preview.band) == (None, None, "")


@pytest.mark.parametrize(
    ("order_type", "limit", "stop", "price"),
    [
        ("LMT", "200", None, "200"),
        ("STP", None, "180", "180"),
        ("STP LMT", "185", "180", "185"),
    ],
)
def test_a_priced_order_is_valued_at_its_limit_else_its_stop(
    project: Project,
    market: dict[str, Decimal],
    order_type: str,
    limit: str | None,
    stop: str | None,
    price: str,
) -> None:
    market["AAPL"] = Decimal("190")
    preview = order_preview(
        project=project,
        symbol="AAPL",
        quantity=Decimal(10),
        order_type=order_type,
        limit_price=Decimal(limit) if limit else None,
        stop_price=Decimal(stop) if stop else None,
    )
    assert preview.price == Decimal(price)
    assert preview.value == Decimal(price) * 10


def test_a_limit_price_of_a_market_order_is_ignored(project: Project, market: dict[str, Decimal]) -> None:
    market["AAPL"] = Decimal("190")
    preview = order_preview(
        project=project, symbol="AAPL", quantity=Decimal(1), order_type="MKT", limit_price=Decimal("1")
    )
    assert (preview.price, preview.deviation_pct) == (Decimal("190"), None)


def test_a_limit_inside_the_soft_band_shows_its_signed_distance(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("200")
    preview = order_preview(
        project=project, symbol="AAPL", quantity=Decimal(1), order_type="LMT", limit_price=Decimal("190")
    )
    assert preview.deviation_pct == Decimal("-5")
    assert (preview.ratio, preview.band) == (None, "")


def test_a_limit_past_the_soft_band_is_marked_as_asking_confirmation(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.10")
    preview = order_preview(
        project=project, symbol="AAPL", quantity=Decimal(1), order_type="LMT", limit_price=Decimal("210.67")
    )
    assert preview.deviation_pct is not None and round(preview.deviation_pct, 1) == Decimal("12.0")
    assert preview.band == SOFT


def test_a_fat_finger_limit_reads_as_a_multiple_and_past_the_hard_band(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.10")
    preview = order_preview(
        project=project, symbol="AAPL", quantity=Decimal(1), order_type="LMT", limit_price=Decimal("1881")
    )
    assert preview.ratio == Decimal(10)
    assert preview.band == HARD


def test_a_stop_limit_is_measured_by_its_price_farthest_from_the_market(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("100")
    preview = order_preview(
        project=project,
        symbol="AAPL",
        quantity=Decimal(1),
        order_type="STP LMT",
        limit_price=Decimal("104"),
        stop_price=Decimal("80"),
    )
    assert preview.deviation_pct == Decimal("-20")
    assert preview.band == SOFT


def test_the_projects_own_bands_decide_the_mark(market: dict[str, Decimal], user: Any) -> None:
    wide: Project = ProjectFactory(  # type: ignore[assignment]
        name="wide", members=[user], price_band_soft_pct=Decimal(30), price_band_hard_pct=Decimal(90)
    )
    market["AAPL"] = Decimal("100")
    preview = order_preview(
        project=wide, symbol="AAPL", quantity=Decimal(1), order_type="LMT", limit_price=Decimal("120")
    )
    assert preview.band == ""


def test_without_a_quantity_the_price_is_known_but_not_the_value(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("190")
    preview = order_preview(project=project, symbol="AAPL", quantity=None, order_type="MKT")
    assert (preview.price, preview.value) == (Decimal("190"), None)


def test_a_fill_of_the_other_mode_is_never_the_reference(user: Any, market: dict[str, Decimal]) -> None:
    """A paper fill (simulated price) neither values nor bands a live order, and a live fill no paper one."""
    paper = ProjectFactory(name="paper-book", members=[user])
    live = ProjectFactory(name="live-book", mode="live", members=[user])
    filled(paper, "XYZ", "50.00")
    assert price_reference(project=live, symbol="XYZ") is None
    preview = order_preview(
        project=live, symbol="XYZ", quantity=Decimal(10), order_type="LMT", limit_price=Decimal(100)
    )
    assert (preview.reference, preview.deviation_pct, preview.band) == (None, None, "")
    filled(live, "QQQ", "400.00")
    other = ProjectFactory(name="paper-two", members=[user])
    assert price_reference(project=other, symbol="QQQ") is None
