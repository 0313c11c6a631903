"""Django admin of execution bookkeeping: where ingest stopped in each events file, holdings discrepancies.

Both are written by the ingest and reconciliation code only, so they are read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from execution.models import BadEventLine, EngineOpenOrder, EventFileCursor, HoldingsDiscrepancy
from tradedesk.admin.base import ReadOnlyAdminMixin, quantity


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Viewable, never added, changed or deleted here."""


@admin.register(EventFileCursor)
class EventFileCursorAdmin(ReadOnlyAdmin):
    """How far each engine events file has been ingested."""

    list_display = ("path", "offset", "lines_read", "bad_lines", "resets", "updated_at")
    search_fields = ("path",)
    ordering = ("path",)


@admin.register(HoldingsDiscrepancy)
class HoldingsDiscrepancyAdmin(ReadOnlyAdmin):
    """Symbols whose engine holdings disagree with tradedesk's ledger (reconciliation)."""

    list_display = (
        "mode",
        "symbol",
        "engine_quantity_shown",
        "ledger_quantity_shown",
        "run_id",
        "first_seen_at",
        "last_seen_at",
    )
    list_filter = ("mode",)
    search_fields = ("symbol", "run_id")
    fields = (
        ("mode", "symbol", "run_id"),
        ("engine_quantity_shown", "ledger_quantity_shown"),
        ("first_seen_at", "last_seen_at"),
    )
    readonly_fields = ("engine_quantity_shown", "ledger_quantity_shown")
    engine_quantity_shown = quantity("engine_quantity", _("engine quantity"))
    ledger_quantity_shown = quantity("ledger_quantity", _("ledger quantity"))


@admin.register(BadEventLine)
class BadEventLineAdmin(ReadOnlyAdmin):
    """Events lines the ingest refused, with the reason and the line's first KiB."""

    list_display = ("created_at", "source", "offset", "reason")
    list_filter = (("created_at", admin.DateFieldListFilter),)
    search_fields = ("source", "reason")
    readonly_fields = ("created_at", "source", "offset", "reason", "excerpt")
    list_per_page = 100


@admin.register(EngineOpenOrder)
class EngineOpenOrderAdmin(ReadOnlyAdmin):
    """Orders each engine run reloaded from the broker at its start: re-homed to a desk order, or why not."""

    list_display = (
        "seen_at",
        "mode",
        "run_id",
        "engine_order_id",
        "symbol",
        "side",
        "quantity_shown",
        "outcome",
        "order",
        "reason",
    )
    list_filter = ("mode", "outcome")
    search_fields = ("run_id", "symbol")
    list_select_related = ("order",)
    quantity_shown = quantity("quantity", _("quantity"))
