"""Admin of the engine-wide halts: staff halt (with a reason) or resume a mode through the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from execution.actions import engine_halt_set
from orders import doors
from orders.errors import TradedeskError
from orders.models import EngineHalt
from tradedesk.actors import actor_from_request
from tradedesk.web.reasons import translate_reason


class EngineHaltForm(forms.ModelForm):
    """Halted and reason only; who and when are the service's to record."""

    class Meta:
        model = EngineHalt
        fields = ("halted", "reason")

    def clean(self) -> dict[str, Any]:
        """A halt says why (the service refuses it otherwise; here the form shows it beside the field)."""
        data = super().clean() or {}
        if data.get("halted") and not str(data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the engine is halted."))
        return data


@admin.register(EngineHalt)
class EngineHaltAdmin(admin.ModelAdmin):
    """One row per mode; saving calls the engine-halt door (execution.actions, audited), never a plain save."""

    form = EngineHaltForm
    list_display = ("mode", "halted", "reason", "changed_by_name", "changed_at")
    readonly_fields = ("mode", "changed_by_name", "changed_at")
    fields = ("mode", "halted", "reason", "changed_by_name", "changed_at")
    actions = ["resume_selected"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The rows are the modes: never added here."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never deleted: resume instead."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Staff, or the orders.halt_engine permission."""
        return doors.engine_halt_permitted(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Listed for every staff member (the admin site already requires staff)."""
        return bool(request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Every staff member may see what is halted."""
        return bool(request.user.is_staff)

    def save_model(self, request: HttpRequest, obj: EngineHalt, form: Any, change: bool) -> None:
        """Through the service: the lock, the audit entry and the pages' refresh."""
        try:
            engine_halt_set(
                mode=obj.mode,
                halted=obj.halted,
                reason=obj.reason,
                actor=actor_from_request(request, channel="admin"),
            )
        except TradedeskError as exc:
            self.message_user(request, translate_reason(exc.message), messages.ERROR)

    @admin.action(description=_("Resume the selected engines"))
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[EngineHalt]) -> None:
        """Resume every selected mode that is halted."""
        resumed = []
        for row in queryset.filter(halted=True):
            try:
                engine_halt_set(
                    mode=row.mode, halted=False, actor=actor_from_request(request, channel="admin")
                )
            except TradedeskError as exc:
                self.message_user(request, translate_reason(exc.message), messages.ERROR)
            else:
                resumed.append(row.mode.upper())
        if resumed:
            self.message_user(
                request, _("Resumed: %(modes)s") % {"modes": ", ".join(resumed)}, messages.SUCCESS
            )
