"""Positions in the admin: tradedesk's ledger per project, mode and symbol (moved only by fills: read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders.models import Position
from tradedesk.admin.base import ReadOnlyAdminMixin, price, quantity, signed_money


@admin.register(Position)
class PositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every position the fills made, flat ones included (their realised P&L stays)."""

    list_display = (
        "project",
        "mode",
        "symbol",
        "quantity_shown",
        "avg_cost_shown",
        "last_fill_price_shown",
        "last_fill_at",
        "realized_pnl_shown",
        "updated_at",
    )
    list_filter = ("mode", "project")
    search_fields = ("symbol", "project__name")
    list_select_related = ("project",)
    ordering = ("project__name", "mode", "symbol")
    list_per_page = 100
    fields = (
        ("project", "mode", "symbol"),
        ("quantity_shown", "avg_cost_shown", "realized_pnl_shown"),
        ("last_fill_price_shown", "last_fill_at", "updated_at"),
    )
    readonly_fields = ("quantity_shown", "avg_cost_shown", "realized_pnl_shown", "last_fill_price_shown")
    quantity_shown = quantity("quantity", _("quantity"))
    avg_cost_shown = price("avg_cost", _("avg cost"))
    last_fill_price_shown = price("last_fill_price", _("last fill price"))
    realized_pnl_shown = signed_money("realized_pnl", _("realised P&L"))
