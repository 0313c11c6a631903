"""Admins of stored engine events and the execution models (read-only: the engine owns them)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from orders.models import (
    ArchivedExecutionEvent,
    ExecutionEvent,
    UnmatchedEvent,
)
from tradedesk.admin.base import ReadOnlyAdminMixin, money, price, quantity
from tradedesk.admin.history import HistoryAdminMixin


class EventAdminBase(HistoryAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stored engine events, as received."""

    list_display: tuple[str, ...] = (
        "received_at",
        "event_time",
        "tag",
        "status",
        "outcome",
        "filled_shown",
        "fill_price_shown",
        "run_id",
        "order_link",
    )
    list_filter = ("outcome", "status", ("received_at", admin.DateFieldListFilter))
    search_fields = ("tag", "run_id", "event_key", "engine_order_id")
    date_hierarchy = "received_at"
    list_select_related = ("order",)
    list_per_page = 100
    fields = (
        ("received_at", "event_time", "outcome", "reason"),
        ("tag", "order", "status", "message"),
        ("filled_shown", "fill_price_shown", "fee_shown"),
        ("run_id", "engine_order_id", "engine_event_id"),
        ("event_key", "source"),
        "payload",
    )
    readonly_fields = ("filled_shown", "fill_price_shown", "fee_shown")
    filled_shown = quantity("filled", _("filled"))
    fill_price_shown = price("fill_price", _("fill price"))
    fee_shown = money("fee", _("fee"))

    @admin.display(description=_("order"))
    def order_link(self, obj: ExecutionEvent) -> str:
        """The order this event was applied to."""
        if obj.order_id is None:
            return "—"
        url = reverse("admin:orders_tradeorder_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order_id)


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(EventAdminBase):
    """Every stored engine event."""


@admin.register(UnmatchedEvent)
class UnmatchedEventAdmin(EventAdminBase):
    """Events whose tag matched no order: to be explained by a human."""

    list_display = (
        "received_at",
        "event_time",
        "tag",
        "status",
        "filled_shown",
        "fill_price_shown",
        "run_id",
        "source_file",
    )
    list_filter = ("status", ("received_at", admin.DateFieldListFilter))  # type: ignore[assignment]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExecutionEvent]:
        """Unmatched events only."""
        return super().get_queryset(request).filter(outcome=ExecutionEvent.Outcome.UNMATCHED)

    @admin.display(description=_("file"))
    def source_file(self, obj: ExecutionEvent) -> str:
        """The events file the event was read from."""
        return obj.source


@admin.register(ArchivedExecutionEvent)
class ArchivedExecutionEventAdmin(EventAdminBase):
    """Engine events of closed orders moved out of the events table by month (manage.py history_archive)."""

    # Newest first on the archive's received_at index; the filter's choices are the outcomes', the search an
    # exact event key on its unique index (the archive is read rarely and never walked whole).
    ordering = ("-received_at", "-id")
    list_filter = ("outcome",)  # type: ignore[assignment]
    search_fields = ("=event_key",)  # type: ignore[assignment]
