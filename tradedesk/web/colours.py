"""The colour convention a page is drawn in (data-colours on <html>, for the page and the admin)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from orders.doors import colour_convention_for
from orders.models import ColourConvention


def colour_context(request: HttpRequest) -> dict[str, Any]:
    """`colour_convention` (read only when a template uses it: full pages, not the polls' partials) and the
    choices the page offers."""
    language = translation.get_language() or ""
    user = getattr(request, "user", None)
    return {
        "colour_convention": SimpleLazyObject(lambda: colour_convention_for(user=user, language=language)),
        "colour_conventions": ColourConvention.choices,
    }
