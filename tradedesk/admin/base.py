"""Shared admin pieces: read-only admins and the display of numbers by tradedesk.display's rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from tradedesk.display import amount_text, money_text, price_text, qty_text, sign_name

# A column or read-only field: (model admin, row) -> text.
Shown = Callable[[Any, Any], str]


def shown(field: str, kind: Callable[[Any], str], label: Any, *, ordering: bool = True) -> Shown:
    """A list column / read-only field showing `field` formatted by `kind` (qty_text, price_text, amount_text)."""

    def show(model_admin: Any, obj: Any) -> str:
        return kind(getattr(obj, field))

    show.__name__ = f"{field}_shown"
    show.__doc__ = f"{field}, formatted by {kind.__name__}."
    return admin.display(description=label, ordering=field if ordering else None)(show)


def quantity(field: str, label: Any) -> Shown:
    """A quantity column: 10, 0.5."""
    return shown(field, qty_text, label)


def price(field: str, label: Any) -> Shown:
    """A price column: 189.20, 0.1234."""
    return shown(field, price_text, label)


def money(field: str, label: Any) -> Shown:
    """A money column: 1,250.00."""
    return shown(field, amount_text, label)


def signed_money(field: str, label: Any) -> Shown:
    """A P&L column: +12.40, −3.00, coloured up / down in the user's convention (static/css/admin.css)."""

    def show(model_admin: Any, obj: Any) -> str:
        value = getattr(obj, field)
        return format_html('<span class="td-signed {}">{}</span>', sign_name(value), money_text(value))

    show.__name__ = f"{field}_shown"
    show.__doc__ = f"{field}, signed and coloured by its sign."
    return admin.display(description=label, ordering=field)(show)


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
