"""Django admin of execution bookkeeping: where ingest stopped in each events file, holdings discrepancies.

Both are written by the ingest and reconciliation code only, so they are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from execution.models import EventFileCursor, HoldingsDiscrepancy


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never added here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never changed here."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never deleted here."""
        return False


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
        "engine_quantity",
        "ledger_quantity",
        "run_id",
        "first_seen_at",
        "last_seen_at",
    )
    list_filter = ("mode",)
    search_fields = ("symbol", "run_id")
