"""orders app config."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Orders, fills, positions and the services that write them."""

    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"
