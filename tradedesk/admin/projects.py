"""Admins of projects (mode and trading state through the services), API tokens and the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from execution.actions import project_set_mode, project_trading_state_change
from orders import doors
from orders.errors import TradedeskError
from orders.models import (
    ApiToken,
    ArchivedAuditLog,
    AuditLog,
    Mode,
    Project,
)
from tradedesk.actors import actor_from_request
from tradedesk.admin.base import ReadOnlyAdminMixin, money, quantity
from tradedesk.admin.history import HistoryAdminMixin
from tradedesk.display import audit_detail_text
from tradedesk.web.reasons import translate_reason

# Characters of an audit detail shown in the list; the entry's page shows all of it.
DETAIL_SHOWN = 80


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
            "price_band_soft_pct",
            "price_band_hard_pct",
        )

    def clean_mode(self) -> str:
        """LIVE needs orders.trade_live; a project with working orders keeps its mode."""
        mode = str(self.cleaned_data["mode"])
        current = self.instance.mode if self.instance.pk is not None else Mode.PAPER
        probe = Project(pk=self.instance.pk, mode=current)
        try:
            doors.project_check_mode_switch(
                project=probe, mode=mode, user=getattr(self.request, "user", None)
            )
        except TradedeskError as exc:
            raise forms.ValidationError(translate_reason(exc.message)) from None
        return mode

    def clean(self) -> dict[str, Any]:
        """A LIVE project's set-up and a move towards ACTIVE need orders.trade_live (the services' rule)."""
        data = super().clean() or {}
        user = getattr(self.request, "user", None)
        if self.instance.pk is None:
            return data
        stored = Project.objects.get(pk=self.instance.pk)
        try:
            state = data.get("trading_state")
            if state:
                doors.project_check_trading_state(project=stored, state=str(state), user=user)
            if set(self.changed_data) - {"trading_state", "mode"}:
                doors.require_live_permission(user=user, project=stored)
        except TradedeskError as exc:
            raise forms.ValidationError(translate_reason(exc.message)) from None
        return data


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects: members, mode (LIVE needs orders.trade_live), trading state, risk limits."""

    form = ProjectAdminForm
    list_display = (
        "name",
        "mode",
        "trading_state",
        "member_count",
        "max_order_quantity_shown",
        "max_order_notional_shown",
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
                    ("price_band_soft_pct", "price_band_hard_pct"),
                )
            },
        ),
        (None, {"fields": (("created_at", "updated_at"),)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        """With member counts."""
        queryset: QuerySet[Project] = super().get_queryset(request)
        return queryset.annotate(member_total=Count("members", distinct=True))

    max_order_quantity_shown = quantity("max_order_quantity", _("max order quantity"))
    max_order_notional_shown = money("max_order_notional", _("max order notional"))

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, obj: Project) -> int:
        """How many traders are members."""
        return int(getattr(obj, "member_total", 0))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """The form knows who is asking (for the LIVE permission check)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        """Other fields save as usual; mode and trading state go through the services (audited)."""
        if not change:
            super().save_model(request, obj, form, change)
            doors.audit_record(
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
                project_set_mode(project=obj, mode=new_mode, actor=actor)
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
            doors.api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(HistoryAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only audit log."""

    list_display = (
        "at",
        "username",
        "action",
        "detail_short",
        "channel",
        "source_address",
        "project",
        "order",
    )
    list_filter = ("action", "channel", ("at", admin.DateFieldListFilter))
    search_fields = ("username", "action", "order__client_order_id")
    date_hierarchy = "at"
    list_select_related = ("project", "order")
    list_per_page = 100
    fields = (
        ("at", "username", "user"),
        ("action", "channel", "source_address"),
        ("project", "order"),
        "detail_text",
        "detail",
    )
    readonly_fields = ("detail_text",)

    @admin.display(description=_("detail"))
    def detail_short(self, obj: AuditLog) -> str:
        """The detail as a reviewer reads it (escaped by the admin), cut to one line."""
        text = audit_detail_text(obj.action, obj.detail)
        return text if len(text) <= DETAIL_SHOWN else text[: DETAIL_SHOWN - 1].rstrip() + "…"

    @admin.display(description=_("detail (readable)"))
    def detail_text(self, obj: AuditLog) -> str:
        """The whole detail as a reviewer reads it."""
        return audit_detail_text(obj.action, obj.detail) or "—"


@admin.register(ArchivedAuditLog)
class ArchivedAuditLogAdmin(AuditLogAdmin):
    """Audit log entries of archived months (manage.py history_archive), as the log shows them."""

    # Newest first and the date drill-down on the archive's `at` index; the rest is read as the log is.
    ordering = ("-at", "-id")
    list_filter = (("at", admin.DateFieldListFilter),)  # type: ignore[assignment]
    search_fields = ()  # type: ignore[assignment]
