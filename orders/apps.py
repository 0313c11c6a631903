"""orders app config."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class OrdersConfig(AppConfig):
    """Orders, fills, positions and the services that write them."""

    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every saved order bumps its project's change counter (the page's idle poll compares it); every
        change to who may do what ends the shared auth cache's entries (orders/services/auth_cache.py) and moves
        the access counter the push streams watch (orders/services/access_version.py); every
        migrate leaves the small tables analyzed (orders/services/maintenance.py)."""
        # Imported here, not at the top: an app's modules may import models only once the registry is ready.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from orders.models import ApiToken, Project, TradeOrder
        from orders.services.access_version import access_version_on_change
        from orders.services.auth_cache import auth_cache_invalidate_on_change
        from orders.services.versions import order_saved

        post_save.connect(order_saved, sender=TradeOrder, dispatch_uid="orders.project_version")
        post_migrate.connect(analyze_after_migrate, sender=self, dispatch_uid="orders.analyze_after_migrate")
        user_model = get_user_model()
        for model in (user_model, Group, ApiToken):
            for signal in (post_save, post_delete):
                signal.connect(
                    auth_cache_invalidate_on_change, sender=model, dispatch_uid=f"orders.auth_cache.{model}"
                )
        for through in (
            user_model.groups.through,
            user_model.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(
                auth_cache_invalidate_on_change, sender=through, dispatch_uid=f"orders.auth_cache.{through}"
            )
        # What a page's push stream re-checks (its session's user and the membership; the session's own
        # delete at logout moves the counter in tradedesk/web/sessions.py).
        post_save.connect(
            access_version_on_change, sender=user_model, dispatch_uid="orders.access.user_saved"
        )
        post_delete.connect(
            access_version_on_change, sender=user_model, dispatch_uid="orders.access.user_gone"
        )
        post_delete.connect(
            access_version_on_change, sender=Project, dispatch_uid="orders.access.project_gone"
        )
        m2m_changed.connect(
            access_version_on_change, sender=Project.members.through, dispatch_uid="orders.access.members"
        )


def analyze_after_migrate(sender: Any, *, using: str, plan: Any = None, **kwargs: Any) -> None:
    """Statistics for the small tables once the schema is in place (a deploy step: it runs here, not queued,
    since migrate runs before any worker may). A flush (TransactionTestCase) sends the signal without a plan:
    nothing migrated, nothing to do."""
    # Imported here: apps.py loads before the registry is ready, and the services import the models.
    from orders.services.maintenance import small_tables_analyze

    if plan is not None:
        small_tables_analyze(using=using)
