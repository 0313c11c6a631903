"""The app's URLs plus two baselines for bench/load.py (never part of the app itself)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from orders.models import TradeOrder
from tradedesk.urls import urlpatterns as app_urlpatterns

FIELDS = (
    "id", "client_order_id", "project_id", "mode", "symbol", "side", "quantity", "order_type", "status",
    "filled_quantity", "avg_fill_price", "fees", "ib_order_id", "last_status_ts", "created_at", "updated_at",
)  # fmt: skip


def bare(request: HttpRequest) -> JsonResponse:
    """The least a Django JSON view does: the middleware stack and a small JSON body, no database."""
    return JsonResponse({"ok": True, "items": []})


def bare_orders(request: HttpRequest) -> JsonResponse:
    """The same 50 latest orders as plain ORM values: no auth, no count, no schema (a second baseline)."""
    items = list(TradeOrder.objects.order_by("-created_at", "-id").values(*FIELDS)[:50])
    return JsonResponse({"items": items})


urlpatterns = [path("bench/bare", bare), path("bench/bare-orders", bare_orders), *app_urlpatterns]
