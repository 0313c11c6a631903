"""Django admin for review of the orders: what was sent, by whom, what the engine did (the inlines of its fills
and events: order_inlines.py; its list filters: order_filters.py).

The admin writes nothing itself: every change goes through the doors (execution.actions, orders.doors)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from execution.actions import ingest_execution_events, order_cancel_request, order_modify_clear, order_resolve
from orders import doors
from orders.errors import TradedeskError
from orders.models import ArchivedExecutionEvent, OrderStatus, TradeOrder
from tradedesk.actors import actor_from_request
from tradedesk.admin.base import money, price, quantity
from tradedesk.admin.fills import export_order_fills
from tradedesk.admin.history import HistoryAdminMixin
from tradedesk.admin.order_filters import ReviewedFilter, SourceFilter
from tradedesk.admin.order_inlines import ArchivedExecutionEventInline, ExecutionEventInline, TradeFillInline
from tradedesk.admin.stages import SlowOrderFilter

# The engine's order ids are bigints: a longer number cannot match one.
_BIGINT_MAX = 2**63 - 1

# --------------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------------


class TradeOrderReviewForm(forms.ModelForm):
    """The review note, and for an unknown order (dead engine run) its resolution; services do the writing."""

    resolve_status = forms.ChoiceField(
        required=False,
        label=_("Resolve as"),
        choices=[("", "—"), (OrderStatus.CANCELED, _("Canceled")), (OrderStatus.FILLED, _("Filled"))],
        help_text=_("Only for an unknown order, once the broker reports what happened to it."),
    )
    resolve_quantity = forms.DecimalField(
        required=False, min_value=0, label=_("Broker filled quantity"), help_text=_("the order's total")
    )
    resolve_price = forms.DecimalField(
        required=False, min_value=0, label=_("Broker price"), help_text=_("of the quantity not yet recorded")
    )
    resolve_note = forms.CharField(
        required=False, label=_("Resolution note"), widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
    )
    clear_update_reason = forms.CharField(
        required=False,
        max_length=500,
        label=_("Clear the pending update: reason"),
        help_text=_(
            "When the engine never answered the update, or the broker refused it; say what the broker shows."
        ),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
    )

    def clean(self) -> dict[str, Any]:
        """A resolution needs its note."""
        data = super().clean() or {}
        if data.get("resolve_status") and not (data.get("resolve_note") or "").strip():
            self.add_error("resolve_note", _("required: what the broker reported"))
        return data

    class Meta:
        model = TradeOrder
        fields = ("review_note",)
        widgets = {"review_note": forms.Textarea(attrs={"rows": 3, "cols": 80})}


@admin.register(TradeOrder)
class TradeOrderAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """Review of the orders sent: what, by whom, what the engine did."""

    form = TradeOrderReviewForm
    list_display = (
        "id",
        "created_at",
        "status",
        "side",
        "symbol",
        "quantity_shown",
        "filled_quantity_shown",
        "avg_fill_price_shown",
        "mode",
        "project",
        "source",
        "created_by",
        "reviewed",
        "flags_display",
    )
    list_display_links = ("id", "created_at")
    list_filter = (
        "status",
        "mode",
        "project",
        SourceFilter,
        ("created_at", admin.DateFieldListFilter),
        ReviewedFilter,
        "flag",
        "overfilled",
        "future_event_time",
        SlowOrderFilter,
    )
    # Exact matches on indexed columns (get_search_results): a substring search walks the whole history.
    search_fields = ("client_order_id", "symbol", "ib_order_id")
    search_help_text = _("Exact symbol (any case), client order id or engine order id.")
    date_hierarchy = "created_at"
    list_select_related = ("project", "created_by")
    list_per_page = 100
    ordering = ("-created_at", "-id")
    inlines = (TradeFillInline, ExecutionEventInline, ArchivedExecutionEventInline)
    actions = ("cancel_selected", "reingest_events", "mark_reviewed", export_order_fills)

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """The archived events' inline only on an order that has some (one probe of the archive's index): the
        page of every other order is as before."""
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and ArchivedExecutionEvent.objects.filter(order=obj).exists():
            return inlines
        return [inline for inline in inlines if not isinstance(inline, ArchivedExecutionEventInline)]

    fieldsets = (
        (
            _("Order"),
            {
                "fields": (
                    ("client_order_id", "project", "mode"),
                    (
                        "side",
                        "quantity_shown",
                        "symbol",
                        "order_type",
                        "limit_price_shown",
                        "stop_price_shown",
                    ),
                    ("trailing_amount_shown", "trailing_as_percent", "trigger_price_shown"),
                    ("time_in_force", "good_till_date", "outside_rth"),
                    ("created_by", "created_at", "source"),
                    "params",
                )
            },
        ),
        (
            _("Execution (engine-owned)"),
            {
                "fields": (
                    ("status", "status_ts", "last_status_ts"),
                    "status_message",
                    ("filled_quantity_shown", "avg_fill_price_shown", "fees_shown"),
                    ("ib_order_id", "dispatched_at", "dispatch_attempts"),
                    ("flag", "flag_message"),
                    ("overfilled", "future_event_time"),
                    ("update_pending", "update_requested_at"),
                    ("update_quantity", "update_limit_price", "update_stop_price"),
                    ("update_trailing_amount", "update_trigger_price"),
                    ("update_refused", "update_refused_message"),
                    "updated_at",
                )
            },
        ),
        (_("Review"), {"fields": (("reviewed_by", "reviewed_at"), "review_note")}),
        (
            _("Resolve an unknown order (staff)"),
            {"fields": (("resolve_status", "resolve_quantity", "resolve_price"), "resolve_note")},
        ),
        (
            _("Clear a pending update the engine never answered, or a refused update (staff)"),
            {"fields": ("clear_update_reason",)},
        ),
    )
    readonly_fields = (
        "client_order_id",
        "project",
        "mode",
        "side",
        "quantity_shown",
        "symbol",
        "order_type",
        "limit_price_shown",
        "stop_price_shown",
        "trailing_amount_shown",
        "trailing_as_percent",
        "trigger_price_shown",
        "time_in_force",
        "good_till_date",
        "outside_rth",
        "created_by",
        "created_at",
        "source",
        "params",
        "status",
        "status_ts",
        "last_status_ts",
        "status_message",
        "filled_quantity_shown",
        "avg_fill_price_shown",
        "fees_shown",
        "ib_order_id",
        "dispatched_at",
        "dispatch_attempts",
        "flag",
        "flag_message",
        "overfilled",
        "future_event_time",
        "update_pending",
        "update_requested_at",
        "update_quantity",
        "update_limit_price",
        "update_stop_price",
        "update_trailing_amount",
        "update_trigger_price",
        "update_refused",
        "update_refused_message",
        "updated_at",
        "reviewed_by",
        "reviewed_at",
    )

    quantity_shown = quantity("quantity", _("quantity"))
    filled_quantity_shown = quantity("filled_quantity", _("filled"))
    avg_fill_price_shown = price("avg_fill_price", _("avg price"))
    limit_price_shown = price("limit_price", _("limit price"))
    stop_price_shown = price("stop_price", _("stop price"))
    trailing_amount_shown = price("trailing_amount", _("trailing amount"))
    trigger_price_shown = price("trigger_price", _("trigger price"))
    fees_shown = money("fees", _("fees"))

    @admin.display(description=_("source"))
    def source(self, obj: TradeOrder) -> str:
        """params.source."""
        return obj.source

    @admin.display(description=_("flags"))
    def flags_display(self, obj: TradeOrder) -> str:
        """Every flag of the order (unknown, stale, overfill, future time)."""
        return ", ".join(obj.flags) or "—"

    @admin.display(description=_("reviewed"), boolean=True, ordering="reviewed_at")
    def reviewed(self, obj: TradeOrder) -> bool:
        """Whether a desk lead reviewed the order."""
        return obj.reviewed_at is not None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[TradeOrder], search_term: str
    ) -> tuple[QuerySet[TradeOrder], bool]:
        """Orders whose symbol (any case), client order id or engine order id is the term, each an index.

        The id columns join the match only when an order has the term there (one index probe each), so a
        symbol search stays a walk of the symbol's index newest first (an OR would sort every match)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        ids = [Q(client_order_id=term)]
        if term.isdigit() and int(term) <= _BIGINT_MAX:
            ids.append(Q(ib_order_id=int(term)))
        match = Q(symbol=term.upper())
        for by_id in ids:
            if TradeOrder.objects.filter(by_id).exists():
                match |= by_id
        return queryset.filter(match), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Orders are placed from the page or the API, never typed into the admin."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Orders are history."""
        return False

    def save_model(self, request: HttpRequest, obj: TradeOrder, form: Any, change: bool) -> None:
        """Saving the review note records the review (reviewer and time) through the service."""
        if "review_note" in form.changed_data:
            doors.trade_order_mark_reviewed(order=obj, user=request.user, note=obj.review_note)
        status = form.cleaned_data.get("resolve_status")
        if status:
            try:
                order_resolve(
                    order=obj,
                    status=status,
                    note=form.cleaned_data.get("resolve_note") or "",
                    quantity=form.cleaned_data.get("resolve_quantity"),
                    price=form.cleaned_data.get("resolve_price"),
                    actor=actor_from_request(request, channel="admin"),
                )
                self.message_user(request, f"{obj.client_order_id} resolved as {status}.", messages.SUCCESS)
            except TradedeskError as exc:
                self.message_user(request, f"{obj.client_order_id}: {exc.message}", messages.ERROR)
        reason = (form.cleaned_data.get("clear_update_reason") or "").strip()
        if reason:
            try:
                order_modify_clear(
                    order=obj, reason=reason, actor=actor_from_request(request, channel="admin")
                )
                self.message_user(
                    request, f"{obj.client_order_id}: pending update cleared.", messages.SUCCESS
                )
            except TradedeskError as exc:
                self.message_user(request, f"{obj.client_order_id}: {exc.message}", messages.ERROR)

    @admin.action(description=_("Cancel selected"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> None:
        """Cancel each selected working order; say why for each refusal."""
        requested = 0
        for order in queryset.select_related("project"):
            try:
                order_cancel_request(order=order, actor=actor_from_request(request, channel="admin"))
                requested += 1
            except TradedeskError as exc:
                self.message_user(request, f"{order.client_order_id}: {exc.message}", messages.WARNING)
        if requested:
            self.message_user(request, f"Cancel requested for {requested} order(s).", messages.SUCCESS)

    @admin.action(description=_("Re-ingest events"), permissions=["change"])
    def reingest_events(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> None:
        """Read every engine events file again (new lines only are applied)."""
        report = ingest_execution_events(force=True)
        counts = ", ".join(f"{key} {value}" for key, value in report.as_dict().items() if value)
        self.message_user(request, f"Events ingested: {counts or 'nothing new'}.", messages.SUCCESS)

    @admin.action(description=_("Mark reviewed"), permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> None:
        """Record the current user's review of each selected order."""
        orders = list(queryset.select_related("project"))
        for order in orders:
            doors.trade_order_mark_reviewed(order=order, user=request.user, note=order.review_note)
        self.message_user(request, f"Marked {len(orders)} order(s) reviewed.", messages.SUCCESS)
