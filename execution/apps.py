"""execution app config."""

from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    """Hands orders to the engine and ingests its events."""

    name = "execution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the signal that enqueues manual orders, register the tasks (dispatch enqueues them by name)
        in every process; give the domain the engines' fresh prices and the accounts' fresh buying power."""
        # Imported here, not at the top: an app's modules may import models only once the registry is ready.
        from execution import signals, tasks  # noqa: F401
        from execution.ingest.account import fresh_buying_power
        from execution.ingest.prices import fresh_market_price
        from orders.services import buying_power_source_register, market_price_source_register

        market_price_source_register(fresh_market_price)
        buying_power_source_register(fresh_buying_power)
