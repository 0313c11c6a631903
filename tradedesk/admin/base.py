"""Shared admin pieces: read-only admins and number display."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tradedesk.display import decimal_text

# --------------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------------


def num(value: Any) -> str:
    """A Decimal without trailing zeros ('—' for none)."""
    return "—" if value is None else decimal_text(value)


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
