"""The one formatting rule of numbers and times (tradedesk.display) and the page's filters that use it."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone

from tradedesk.display import (
    amount_text,
    approx_text,
    audit_detail_text,
    datetime_text,
    money_text,
    multiple_text,
    percent_text,
    price_text,
    qty_text,
    time_parts,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        ("", "—"),
        ("not a number", "—"),
        (Decimal("NaN"), "—"),
        (Decimal("Infinity"), "—"),
        (Decimal(0), "0.00"),
        (Decimal("189.2"), "189.20"),
        (Decimal("189.2133"), "189.2133"),
        (Decimal("189.213333"), "189.2133"),
        (Decimal("189.21335"), "189.2134"),  # half-even
        (Decimal("189.21325"), "189.2132"),
        (Decimal("1.2345"), "1.2345"),  # an order's price is never rounded away
        (Decimal("189.2150"), "189.215"),
        (Decimal("1.0000000000"), "1.00"),
        (Decimal("10.0000000000"), "10.00"),
        (Decimal("1250.5"), "1,250.50"),
        (Decimal("0.5"), "0.50"),
        (Decimal("0.1234"), "0.1234"),
        (Decimal("0.12345"), "0.1234"),
        (Decimal("0.123"), "0.123"),
        (Decimal("0.1200"), "0.12"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("0.00004"), "0.00"),
        (Decimal("0.99996"), "1.00"),
        (Decimal("-0.5"), "−0.50"),
        (Decimal("-189.2"), "−189.20"),
        (Decimal("123456789012345678901234567890.125"), "123,456,789,012,345,678,901,234,567,890.125"),
        (189, "189.00"),
        ("0.25", "0.25"),
    ],
)
def test_prices_have_two_to_four_decimals_and_never_lose_an_orders_digits(value: Any, expected: str) -> None:
    assert price_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        (Decimal(0), "0"),
        (Decimal("0.000000"), "0"),
        (Decimal("2.000000"), "2"),
        (Decimal("10"), "10"),
        (Decimal("1250"), "1,250"),
        (Decimal("1E+3"), "1,000"),
        (Decimal("0.5"), "0.5"),
        (Decimal("2.250000"), "2.25"),
        (Decimal("-5.000000"), "−5"),
        (Decimal("-0.5"), "−0.5"),
        (Decimal("1000000000000000000000000000000"), "1,000,000,000,000,000,000,000,000,000,000"),
        (7, "7"),
    ],
)
def test_quantities_are_whole_numbers_unless_they_have_a_fraction(value: Any, expected: str) -> None:
    assert qty_text(value) == expected


@pytest.mark.parametrize(
    ("value", "amount", "signed"),
    [
        (None, "—", "—"),
        (Decimal(0), "0.00", "0.00"),
        (Decimal("-0.001"), "0.00", "0.00"),
        (Decimal("12.4"), "12.40", "+12.40"),
        (Decimal("-3"), "−3.00", "−3.00"),
        (Decimal("1892.005"), "1,892.00", "+1,892.00"),
        (Decimal("1892.015"), "1,892.02", "+1,892.02"),
        (Decimal("-410.4500000000"), "−410.45", "−410.45"),
        (
            Decimal("98765432109876543210.99"),
            "98,765,432,109,876,543,210.99",
            "+98,765,432,109,876,543,210.99",
        ),
    ],
)
def test_money_has_two_decimals_and_pnl_a_sign(value: Any, amount: str, signed: str) -> None:
    assert amount_text(value) == amount
    assert money_text(value) == signed


@pytest.mark.parametrize(
    ("value", "approx", "percent", "multiple"),
    [
        (None, "—", "—", "—"),
        ("x", "—", "—", "—"),
        (Decimal("3805.4"), "3,805", "+3805.4%", "3,805"),
        (Decimal("95.5"), "95.50", "+95.5%", "96"),
        (Decimal("2.5"), "2.50", "+2.5%", "2.5"),
        (Decimal("0.05"), "0.05", "0%", "0.05"),
        (Decimal("-3.5"), "−3.50", "−3.5%", "—"),
        (Decimal(0), "0.00", "0%", "0.00"),
    ],
)
def test_preview_values_percentages_and_multiples(
    value: Any, approx: str, percent: str, multiple: str
) -> None:
    assert (approx_text(value), percent_text(value), multiple_text(value)) == (approx, percent, multiple)


def test_the_page_filters_apply_the_same_rules() -> None:
    template = Template("{% load desk %}{{ p|price }} {{ q|qty }} {{ a|amount }} {{ m|money }}")
    context = Context({"p": Decimal("0.1200"), "q": Decimal("2.000000"), "a": Decimal(-3), "m": Decimal(5)})
    assert template.render(context) == "0.12 2 −3.00 +5.00"


WINTER = datetime(2026, 1, 15, 19, 32, 5, 123456, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 18, 32, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "moment", "clock", "abbreviation"),
    [
        ("America/New_York", WINTER, "14:32:05", "EST"),
        ("America/New_York", SUMMER, "14:32:05", "EDT"),
        ("Asia/Tokyo", WINTER, "04:32:05", "JST"),
        ("UTC", WINTER, "19:32:05", "UTC"),
    ],
)
def test_times_are_local_with_their_zone_and_utc_beside(
    zone: str, moment: datetime, clock: str, abbreviation: str
) -> None:
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        shown, abbr, iso, utc = time_parts(moment)
    assert (shown, abbr) == (clock, abbreviation)
    assert iso == moment.isoformat().replace("+00:00", "Z")
    assert utc == f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def test_the_timestamp_filter_writes_a_time_element_with_the_utc_tooltip() -> None:
    template = Template(
        "{% load desk %}{{ t|timestamp }}|{{ t|timestamp:'ms' }}|{{ t|timestamp:'date' }}|{{ n|timestamp }}"
    )
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        html = template.render(Context({"t": WINTER, "n": None}))
    plain, millis, dated, none = html.split("|")
    assert plain == (
        '<time datetime="2026-01-15T19:32:05.123456Z" title="2026-01-15 19:32:05 UTC">14:32:05 EST</time>'
    )
    assert ">14:32:05.123 EST</time>" in millis and 'title="2026-01-15 19:32:05.123 UTC"' in millis
    assert ">2026-01-15 14:32:05 EST</time>" in dated
    assert none == "—"


def test_the_timestamp_filter_reads_the_engines_iso_text_and_refuses_naive_times() -> None:
    template = Template("{% load desk %}{{ t|timestamp:'text' }}")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert template.render(Context({"t": "2026-01-15T19:32:05+00:00"})) == (
            "04:32:05 JST (2026-01-15 19:32:05 UTC)"
        )
        assert template.render(Context({"t": "2026-01-15T19:32:05"})) == "—"


def test_admin_datetimes_have_seconds_and_the_zone() -> None:
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert datetime_text(WINTER) == "2026-01-15 14:32:05 EST"
    assert datetime_text(None) == "—"


@pytest.mark.parametrize(
    ("action", "detail", "expected"),
    [
        ("trading_state", {"previous": "ACTIVE", "state": "HALTED"}, "ACTIVE → HALTED"),
        ("trading_state", {"state": "HALTED"}, "→ HALTED"),
        ("mode_switch", {"previous": "paper", "mode": "live"}, "paper → live"),
        ("review", {"reviewer": "lead", "note": "checked"}, "note: checked; reviewer: lead"),
        ("positions_close", {"symbols": ["AAPL", "MSFT"], "orders": []}, "orders: —; symbols: AAPL, MSFT"),
        ("engine_stop", {"mode": "paper", "held": {"AAPL": 1}}, 'held: {"AAPL": 1}; mode: paper'),
        ("review", {}, ""),
    ],
)
def test_audit_details_read_as_sentences(action: str, detail: Any, expected: str) -> None:
    assert audit_detail_text(action, detail) == expected


def test_a_clock_in_a_table_names_its_zone_only_across_a_dst_change() -> None:
    """The time columns' headers name the zone as it is now: a winter time under a summer header (or the
    reverse) carries its own abbreviation, the other none."""
    template = Template('{% load desk %}{{ winter|timestamp:"clock" }}|{{ summer|timestamp:"clock" }}')
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        winter, summer = template.render(
            Context(
                {
                    "winter": datetime(2026, 1, 15, 19, 32, 5, tzinfo=UTC),
                    "summer": datetime(2026, 7, 15, 18, 32, 5, tzinfo=UTC),
                }
            )
        ).split("|")
    texts = sorted([winter.split(">")[1].split("<")[0], summer.split(">")[1].split("<")[0]])
    assert texts in (["14:32:05", "14:32:05 EDT"], ["14:32:05", "14:32:05 EST"])
