"""orders app config."""

from django.apps import AppConfig
from django.db.models.signals import post_save


class OrdersConfig(AppConfig):
    """Orders, fills, positions and the services that write them."""

    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every saved order bumps its project's change counter (the page's idle poll compares it)."""
        from orders.models import TradeOrder
        from orders.services.versions import order_saved

        post_save.connect(order_saved, sender=TradeOrder, dispatch_uid="orders.project_version")
