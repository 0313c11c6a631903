"""Database sessions read through the shared auth cache: an idle poll finds its session without a query."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from orders.doors import (
    auth_cache_delete,
    auth_cache_invalidate,
    auth_cache_new_version,
    auth_cache_read,
    auth_cache_write,
)
from tradedesk.web.sessions import SESSION_KEY_PATTERN
from tradedesk.web.sessions import SessionStore as DBSessionStore


class SessionStore(DBSessionStore):
    """The database stays the record; the cache holds a session's data under the auth epoch.

    Logging out deletes the row and ends the epoch, so a logged-out session is refused on the next request
    of every process, even one that was filling the cache from a read made before the logout committed."""

    cache_key_prefix = "auth:session:"
    # Each session's own version, replaced by every save: a request that read the row before another request
    # of the same session saved it may store what it read, but that is never used.
    version_key_prefix = "auth:session-version:"

    def load(self) -> dict[str, Any]:
        """The session's data: from the cache when stored under the current epoch, else the database."""
        key = self.session_key
        if not key or not SESSION_KEY_PATTERN.fullmatch(key):
            self._session_key = None
            return {}
        data, epoch = auth_cache_read(
            key=self.cache_key_prefix + key, version_key=self.version_key_prefix + key
        )
        if isinstance(data, dict):
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        timeout = self.get_expiry_age(expiry=stored.expire_date)
        auth_cache_write(key=self.cache_key_prefix + key, value=data, epoch=epoch, timeout=timeout)
        return data

    def save(self, must_create: bool = False) -> None:
        """Write the row; the next read takes the new data from the database."""
        super().save(must_create=must_create)
        if self.session_key:
            # Outlives any entry stored under the version it replaces (those live seconds).
            timeout = max(settings.SESSION_COOKIE_AGE, 2 * settings.TRADEDESK_AUTH_CACHE_SECONDS)
            auth_cache_new_version(version_key=self.version_key_prefix + self.session_key, timeout=timeout)
            auth_cache_delete(key=self.cache_key_prefix + self.session_key)

    def delete(self, session_key: str | None = None) -> None:
        """Delete the row and end every cached session (logout, a new key at login)."""
        key = session_key if session_key is not None else self.session_key
        super().delete(session_key)
        if key:
            auth_cache_delete(key=self.cache_key_prefix + key)
        auth_cache_invalidate()
