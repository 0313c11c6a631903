"""execution app config."""

from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    """Hands orders to the engine and ingests its events."""

    name = "execution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the signal that enqueues manual orders."""
        from execution import signals  # noqa: F401
