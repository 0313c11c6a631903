"""Fills in the admin: a read-only list, and the streamed CSV export of fills (also an action on orders)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.exports import fills_export_chunks
from orders.models import TradeFill, TradeOrder
from tradedesk.admin.base import ReadOnlyAdminMixin, money, price, quantity
from tradedesk.admin.history import HistoryAdminMixin


def fills_csv_response(fills: QuerySet[TradeFill]) -> StreamingHttpResponse:
    """The fills as a streamed CSV download."""
    response = StreamingHttpResponse(
        fills_export_chunks(fills, export_format="csv"), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="fills-{stamp}.csv"'
    return response


@admin.action(description=_("Export fills (CSV)"), permissions=["view"])
def export_order_fills(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[TradeOrder]
) -> StreamingHttpResponse:
    """The fills of the selected orders."""
    return fills_csv_response(TradeFill.objects.filter(order__in=queryset.values("pk")))


@admin.register(TradeFill)
class TradeFillAdmin(HistoryAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every fill the engines reported (the engine owns them: read-only)."""

    list_display = (
        "id",
        "filled_at",
        "order",
        "quantity_shown",
        "price_shown",
        "fee_shown",
        "fee_currency",
        "run_id",
        "engine_order_id",
    )
    list_filter = ("order__mode", "order__project", ("filled_at", admin.DateFieldListFilter))
    search_fields = ("order__client_order_id", "order__symbol", "run_id")
    list_select_related = ("order",)
    date_hierarchy = "filled_at"
    ordering = ("-filled_at", "-id")
    actions = ("export_csv",)
    fields = (
        ("order", "filled_at", "created_at"),
        ("quantity_shown", "price_shown", "fee_shown", "fee_currency"),
        ("engine_order_id", "run_id", "event_key"),
    )
    readonly_fields = ("quantity_shown", "price_shown", "fee_shown", "created_at")
    quantity_shown = quantity("quantity", _("quantity"))
    price_shown = price("price", _("price"))
    fee_shown = money("fee", _("fee"))

    @admin.action(description=_("Export selected fills (CSV)"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[TradeFill]) -> StreamingHttpResponse:
        """The selected fills."""
        return fills_csv_response(TradeFill.objects.filter(pk__in=queryset.values("pk")))
