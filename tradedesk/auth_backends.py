"""Django's ModelBackend, with the session's user read through the shared auth cache."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from orders.doors import auth_cache_read, auth_cache_write


class CachedModelBackend(ModelBackend):
    """Logins and permissions as ModelBackend; get_user (every session request) from the cache.

    The cached user carries no permission cache (permissions are read as before), and Django still compares
    the session's hash with the cached user's password hash; any save of the user ends the epoch."""

    def get_user(self, user_id: Any) -> Any | None:
        """The active user with this id, or None."""
        key = f"auth:user:{user_id}"
        user, epoch = auth_cache_read(key=key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                auth_cache_write(key=key, value=user, epoch=epoch)
        return user if user is not None and self.user_can_authenticate(user) else None
