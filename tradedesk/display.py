"""How numbers are written for machines and reviewers: one spelling of a Decimal as text."""

from __future__ import annotations

from decimal import Decimal


def decimal_text(value: Decimal) -> str:
    """A Decimal in plain notation without trailing zeros: 2, 0.5, 1250 (never 1.25E+3)."""
    return format(value.normalize(), "f")
