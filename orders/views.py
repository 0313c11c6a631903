"""HTMX pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    """The site root opens the live-trade page."""
    return redirect("live-trade")


@login_required
def live_trade(request: HttpRequest) -> HttpResponse:
    """The live-trade page."""
    return render(request, "orders/live_trade.html", {})
