"""An order's fills, as the engine reported them."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from orders.models.choices import MONEY, PRICE, QTY
from orders.models.trading import TradeOrder


class TradeFill(models.Model):
    """One fill event of an order."""

    order = models.ForeignKey(TradeOrder, on_delete=models.PROTECT, related_name="fills")
    event_key = models.CharField(max_length=64)  # unique in Meta (no LIKE index, as for ExecutionEvent)
    quantity = models.DecimalField(**QTY)
    price = models.DecimalField(**PRICE)
    fee = models.DecimalField(**MONEY, default=Decimal(0))
    fee_currency = models.CharField(max_length=8, blank=True, default="")
    filled_at = models.DateTimeField(null=True, blank=True)
    run_id = models.CharField(max_length=100, blank=True, default="")
    engine_order_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filled_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key"], name="fill_event_key_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="fill_price_nonneg"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="fill_fee_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity.normalize():f} @ {self.price.normalize():f}"
