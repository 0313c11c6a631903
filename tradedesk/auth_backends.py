"""Django's ModelBackend, with the session's user read through the shared auth cache."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q

from orders.doors import auth_cache_read, auth_cache_write


class CachedModelBackend(ModelBackend):
    """Logins and permissions as ModelBackend; get_user (every session request) from the cache.

    The cached user carries no permission cache (permissions are read per request), and Django still compares
    the session's hash with the cached user's password hash; any save of the user ends the epoch."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """ModelBackend's set of "app_label.codename", read in one query instead of two (user and groups)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            held = Permission.objects.all()
            if not user_obj.is_superuser:
                held = held.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in held.values_list("content_type__app_label", "codename")
            }
        return user_obj._perm_cache  # type: ignore[no-any-return]

    def get_user(self, user_id: Any) -> Any | None:
        """The active user with this id, or None."""
        key = f"auth:user:{user_id}"
        user, epoch = auth_cache_read(key=key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                auth_cache_write(key=key, value=user, epoch=epoch)
        return user if user is not None and self.user_can_authenticate(user) else None
