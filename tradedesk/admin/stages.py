"""The orders list's filter for slow orders: where the time from the commit to the fill on screen (or to its
ingest, when no stream pushed it) went past a bound (orders/models/stages.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orders.models import TradeOrder

# Bounds in milliseconds: the targets of the live path (docs/benchmarks.md) and what a trader notices.
SLOW_BOUNDS = (150, 300, 500, 1000)


class SlowOrderFilter(admin.SimpleListFilter):
    """Orders whose commit -> fill on screen took longer than a bound."""

    title = _("commit to fill on screen")
    parameter_name = "slower_than_ms"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        """One choice per bound."""
        return [(str(bound), _("over %(ms)s ms") % {"ms": bound}) for bound in SLOW_BOUNDS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> QuerySet[TradeOrder]:
        """Orders over the chosen bound (those without stage times are never listed as slow)."""
        if self.value() not in {str(bound) for bound in SLOW_BOUNDS}:
            return queryset
        bound = timedelta(milliseconds=int(self.value() or 0))
        shown = Coalesce(F("stage_times__pushed_at"), F("stage_times__ingested_at"))
        return queryset.alias(took=shown - F("stage_times__committed_at")).filter(took__gt=bound)
