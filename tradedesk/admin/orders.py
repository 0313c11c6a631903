"""Django admin for review: orders (with fills and events), unmatched events, projects, tokens, the audit log.

The admin writes nothing itself: every change goes through orders.services (or execution.services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from execution.events import ingest_execution_events
from execution.services import order_cancel, project_trading_state_change
from orders import services
from orders.errors import TradedeskError
from orders.models import (
    WORKING_STATUSES,
    ApiToken,
    AuditLog,
    ExecutionEvent,
    Mode,
    Project,
    TradeFill,
    TradeOrder,
    UnmatchedEvent,
)
from tradedesk.actors import actor_from_request


def _num(value: Any) -> str:
    """A Decimal without trailing zeros ('—' for none)."""
    return "—" if value is None else format(value.normalize(), "f")


class ReadOnlyAdminMixin:
    """Rows the engine or the services own: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never added here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never changed here."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never deleted here."""
        return False


# --------------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------------


class SourceFilter(admin.SimpleListFilter):
    """params.source: manual, seed, ..."""

    title = _("source")
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """The sources present in the table."""
        sources = TradeOrder.objects.order_by().values_list("params__source", flat=True).distinct()
        return [(str(source), str(source)) for source in sorted(s for s in sources if s)]

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


class TradeFillInline(admin.TabularInline):
    """An order's fills (the engine owns them)."""

    model = TradeFill
    extra = 0
    can_delete = False
    fields = (
        "filled_at",
        "quantity",
        "price",
        "fee",
        "fee_currency",
        "engine_order_id",
        "run_id",
        "event_key",
    )
    readonly_fields = fields
    ordering = ("filled_at", "id")

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
        "filled",
        "fill_price",
        "fee",
        "engine_order_id",
        "run_id",
        "message",
    )
    readonly_fields = fields
    ordering = ("event_time", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Events come from the engine only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Events come from the engine only."""
        return False


class TradeOrderReviewForm(forms.ModelForm):
    """Only the review note is editable; reviewer and time are set by trade_order_mark_reviewed."""

    class Meta:
        model = TradeOrder
        fields = ("review_note",)
        widgets = {"review_note": forms.Textarea(attrs={"rows": 3, "cols": 80})}


@admin.register(TradeOrder)
class TradeOrderAdmin(admin.ModelAdmin):
    """Review of the orders sent: what, by whom, what the engine did."""

    form = TradeOrderReviewForm
    list_display = (
        "id",
        "created_at",
        "status",
        "side",
        "symbol",
        "quantity_display",
        "filled_display",
        "avg_price_display",
        "mode",
        "project",
        "source",
        "created_by",
        "reviewed",
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
    )
    search_fields = ("client_order_id", "symbol", "ib_order_id")
    date_hierarchy = "created_at"
    list_select_related = ("project", "created_by")
    list_per_page = 100
    ordering = ("-created_at", "-id")
    inlines = (TradeFillInline, ExecutionEventInline)
    actions = ("cancel_selected", "reingest_events", "mark_reviewed")
    fieldsets = (
        (
            _("Order"),
            {
                "fields": (
                    ("client_order_id", "project", "mode"),
                    ("side", "quantity", "symbol", "order_type", "limit_price"),
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
                    ("filled_quantity", "avg_fill_price", "fees"),
                    ("ib_order_id", "dispatched_at", "dispatch_attempts"),
                    ("flag", "flag_message"),
                    "updated_at",
                )
            },
        ),
        (_("Review"), {"fields": (("reviewed_by", "reviewed_at"), "review_note")}),
    )
    readonly_fields = (
        "client_order_id",
        "project",
        "mode",
        "side",
        "quantity",
        "symbol",
        "order_type",
        "limit_price",
        "created_by",
        "created_at",
        "source",
        "params",
        "status",
        "status_ts",
        "last_status_ts",
        "status_message",
        "filled_quantity",
        "avg_fill_price",
        "fees",
        "ib_order_id",
        "dispatched_at",
        "dispatch_attempts",
        "flag",
        "flag_message",
        "updated_at",
        "reviewed_by",
        "reviewed_at",
    )

    @admin.display(description=_("quantity"), ordering="quantity")
    def quantity_display(self, obj: TradeOrder) -> str:
        """Ordered quantity."""
        return _num(obj.quantity)

    @admin.display(description=_("filled"), ordering="filled_quantity")
    def filled_display(self, obj: TradeOrder) -> str:
        """Filled quantity."""
        return _num(obj.filled_quantity)

    @admin.display(description=_("avg price"), ordering="avg_fill_price")
    def avg_price_display(self, obj: TradeOrder) -> str:
        """Average fill price."""
        return _num(obj.avg_fill_price)

    @admin.display(description=_("source"))
    def source(self, obj: TradeOrder) -> str:
        """params.source."""
        return obj.source

    @admin.display(description=_("reviewed"), boolean=True, ordering="reviewed_at")
    def reviewed(self, obj: TradeOrder) -> bool:
        """Whether a desk lead reviewed the order."""
        return obj.reviewed_at is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Orders are placed from the page or the API, never typed into the admin."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Orders are history."""
        return False

    def save_model(self, request: HttpRequest, obj: TradeOrder, form: Any, change: bool) -> None:
        """Saving the review note records the review (reviewer and time) through the service."""
        if "review_note" in form.changed_data:
            services.trade_order_mark_reviewed(order=obj, user=request.user, note=obj.review_note)

    @admin.action(description=_("Cancel selected"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[TradeOrder]) -> None:
        """Cancel each selected working order; say why for each refusal."""
        requested = 0
        for order in queryset.select_related("project"):
            try:
                order_cancel(order=order, actor=actor_from_request(request, channel="admin"))
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
            services.trade_order_mark_reviewed(order=order, user=request.user, note=order.review_note)
        self.message_user(request, f"Marked {len(orders)} order(s) reviewed.", messages.SUCCESS)


# --------------------------------------------------------------------------------------------------------
# Engine events
# --------------------------------------------------------------------------------------------------------


class EventAdminBase(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stored engine events, as received."""

    list_display = (
        "received_at",
        "event_time",
        "tag",
        "status",
        "outcome",
        "filled",
        "fill_price",
        "run_id",
        "order_link",
    )
    list_filter = ("outcome", "status", ("received_at", admin.DateFieldListFilter))
    search_fields = ("tag", "run_id", "event_key", "engine_order_id")
    date_hierarchy = "received_at"
    list_select_related = ("order",)
    list_per_page = 100

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
        "filled",
        "fill_price",
        "run_id",
        "source_file",
    )
    list_filter = ("status", ("received_at", admin.DateFieldListFilter))

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExecutionEvent]:
        """Unmatched events only."""
        return super().get_queryset(request).filter(outcome=ExecutionEvent.Outcome.UNMATCHED)

    @admin.display(description=_("file"))
    def source_file(self, obj: ExecutionEvent) -> str:
        """The events file the event was read from."""
        return obj.source


# --------------------------------------------------------------------------------------------------------
# Projects, tokens, audit
# --------------------------------------------------------------------------------------------------------


class ProjectAdminForm(forms.ModelForm):
    """Mode and trading state changes are checked here and applied by the services in save_model."""

    request: HttpRequest | None = None

    class Meta:
        model = Project
        fields = (
            "name",
            "mode",
            "trading_state",
            "members",
            "max_order_quantity",
            "max_order_notional",
            "max_working_orders",
            "max_orders_per_minute",
        )

    def clean_mode(self) -> str:
        """LIVE needs orders.trade_live; a project with working orders keeps its mode."""
        mode = self.cleaned_data["mode"]
        user = getattr(self.request, "user", None)
        changed = self.instance.pk is None or self.instance.mode != mode
        if changed and mode == Mode.LIVE and (user is None or not user.has_perm("orders.trade_live")):
            raise forms.ValidationError(_("Switching to LIVE needs the orders.trade_live permission."))
        if (
            changed
            and self.instance.pk is not None
            and TradeOrder.objects.filter(project=self.instance, status__in=WORKING_STATUSES).exists()
        ):
            raise forms.ValidationError(
                _("The project has working orders; cancel them before switching mode.")
            )
        return mode


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects: members, mode (LIVE needs orders.trade_live), trading state, risk limits."""

    form = ProjectAdminForm
    list_display = (
        "name",
        "mode",
        "trading_state",
        "member_count",
        "max_order_quantity",
        "max_order_notional",
    )
    list_filter = ("mode", "trading_state")
    search_fields = ("name",)
    filter_horizontal = ("members",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "mode", "trading_state", "members")}),
        (
            _("Risk limits (empty: the settings default)"),
            {
                "fields": (
                    ("max_order_quantity", "max_order_notional"),
                    ("max_working_orders", "max_orders_per_minute"),
                )
            },
        ),
        (None, {"fields": (("created_at", "updated_at"),)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        """With member counts."""
        return super().get_queryset(request).annotate(member_total=Count("members", distinct=True))

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, obj: Project) -> int:
        """How many traders are members."""
        return getattr(obj, "member_total", 0)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """The form knows who is asking (for the LIVE permission check)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        """Other fields save as usual; mode and trading state go through the services (audited)."""
        if not change:
            super().save_model(request, obj, form, change)
            services.audit_record(
                actor=actor_from_request(request, channel="admin"), action="project_create", project=obj
            )
            return
        stored = Project.objects.get(pk=obj.pk)
        new_mode, new_state = obj.mode, obj.trading_state
        obj.mode, obj.trading_state = stored.mode, stored.trading_state
        super().save_model(request, obj, form, change)
        actor = actor_from_request(request, channel="admin")
        try:
            if new_mode != stored.mode:
                services.project_set_mode(project=obj, mode=new_mode, actor=actor)
            if new_state != stored.trading_state:
                _project, outcomes = project_trading_state_change(project=obj, state=new_state, actor=actor)
                if outcomes:
                    self.message_user(request, f"Working orders: {outcomes}", messages.WARNING)
        except TradedeskError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        obj.refresh_from_db()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: only the prefix and hash are stored; revoke stops a token at once."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at", "active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj: ApiToken) -> bool:
        """Not revoked."""
        return obj.revoked_at is None

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Tokens are created with `manage.py create_api_token` (the raw value is shown once, there)."""
        return False

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        """Revoke each selected token."""
        tokens = list(queryset)
        for token in tokens:
            services.api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only audit log."""

    list_display = ("at", "username", "action", "channel", "source_address", "project", "order")
    list_filter = ("action", "channel", ("at", admin.DateFieldListFilter))
    search_fields = ("username", "action", "order__client_order_id")
    date_hierarchy = "at"
    list_select_related = ("project", "order")
    list_per_page = 100
