"""The order admin's list filters: by source, by review."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orders.models import ORDER_SOURCES, TradeOrder


class SourceFilter(admin.SimpleListFilter):
    """params.source: manual, seed."""

    title = _("source")
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Every source an order can have (from the choices, not a scan of the orders)."""
        return [(source, source) for source in ORDER_SOURCES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> QuerySet[TradeOrder]:
        """Orders of the chosen source."""
        if self.value():
            return queryset.filter(params__source=self.value())
        return queryset


class ReviewedFilter(admin.SimpleListFilter):
    """Reviewed or still to review."""

    title = _("reviewed")
    parameter_name = "reviewed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        """Yes / no."""
        return [("yes", _("Reviewed")), ("no", _("To review"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> QuerySet[TradeOrder]:
        """Orders reviewed or not."""
        if self.value() == "yes":
            return queryset.filter(reviewed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=True)
        return queryset
