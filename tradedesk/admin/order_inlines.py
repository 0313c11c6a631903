"""The order admin's inlines: an order's fills and its engine events, archived months' included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orders.models import ArchivedExecutionEvent, ExecutionEvent, TradeFill
from tradedesk.admin.base import money, price, quantity


class TradeFillInline(admin.TabularInline):
    """An order's fills (the engine owns them)."""

    model = TradeFill
    extra = 0
    can_delete = False
    fields = (
        "filled_at",
        "quantity_shown",
        "price_shown",
        "fee_shown",
        "fee_currency",
        "engine_order_id",
        "run_id",
        "event_key",
    )
    readonly_fields = fields
    ordering = ("filled_at", "id")
    quantity_shown = quantity("quantity", _("quantity"))
    price_shown = price("price", _("price"))
    fee_shown = money("fee", _("fee"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Fills come from the engine only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Fills come from the engine only."""
        return False


class ExecutionEventInline(admin.TabularInline):
    """An order's stored engine events (its timeline)."""

    model = ExecutionEvent
    extra = 0
    can_delete = False
    fields = (
        "event_time",
        "status",
        "outcome",
        "filled_shown",
        "fill_price_shown",
        "fee_shown",
        "engine_order_id",
        "run_id",
        "message",
    )
    readonly_fields = fields
    ordering = ("event_time", "id")
    filled_shown = quantity("filled", _("filled"))
    fill_price_shown = price("fill_price", _("fill price"))
    fee_shown = money("fee", _("fee"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Events come from the engine only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Events come from the engine only."""
        return False


class ArchivedExecutionEventInline(ExecutionEventInline):
    """The order's events of archived months (manage.py history_archive): the rest of its timeline."""

    model = ArchivedExecutionEvent  # type: ignore[assignment]
    verbose_name = _("archived engine event")
    verbose_name_plural = _("archived engine events")
