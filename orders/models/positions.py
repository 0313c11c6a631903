"""Positions: tradedesk's ledger per project, mode and symbol, moved only by fills."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from orders.models.choices import NOTIONAL, PRICE, QTY, SYMBOL_REGEX, Mode
from orders.models.projects import Project


class Position(models.Model):
    """tradedesk's ledger of one symbol in one project and mode, moved only by fills."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="positions")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    symbol = models.CharField(max_length=15)
    quantity = models.DecimalField(**QTY, default=Decimal(0))
    avg_cost = models.DecimalField(**PRICE, default=Decimal(0))
    realized_pnl = models.DecimalField(**NOTIONAL, default=Decimal(0))
    last_fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    last_fill_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.UniqueConstraint(fields=["project", "mode", "symbol"], name="position_unique_per_mode"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="position_mode_valid"),
            models.CheckConstraint(condition=Q(symbol__regex=SYMBOL_REGEX), name="position_symbol_format"),
            models.CheckConstraint(condition=Q(avg_cost__gte=0), name="position_avg_cost_nonneg"),
            models.CheckConstraint(
                condition=~Q(quantity=0) | Q(avg_cost=0), name="position_flat_has_no_cost"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.name}/{self.mode} {self.symbol} {self.quantity.normalize():f}"

    @property
    def market_value_price(self) -> Decimal | None:
        """The last known price of the symbol (the last fill)."""
        return self.last_fill_price

    @property
    def unrealized_pnl(self) -> Decimal | None:
        """(last price - average cost) * quantity, where a price is known."""
        if self.last_fill_price is None or self.quantity == 0:
            return None
        return (self.last_fill_price - self.avg_cost) * self.quantity
