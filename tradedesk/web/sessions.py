"""Database sessions that ignore malformed session cookies instead of sending them to the database, and move
the access counter when one is deleted (a logout: the pages' push streams re-check their access)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBSessionStore

from orders.doors import access_version_bump

# Django's keys are 32 characters of [a-z0-9]; anything else (a NUL byte, say) cannot name a session, and
# PostgreSQL would refuse the lookup with an error rather than find nothing.
SESSION_KEY_PATTERN = re.compile(r"[a-z0-9]{8,64}")


class SessionStore(DBSessionStore):
    """django.contrib.sessions' database store, minus the query for impossible keys."""

    def _get_session_from_db(self) -> Any:
        """None for a malformed key, else the stored session."""
        if not self.session_key or not SESSION_KEY_PATTERN.fullmatch(self.session_key):
            self._session_key = None
            return None
        return super()._get_session_from_db()  # type: ignore[misc]  # private in django-stubs

    def delete(self, session_key: str | None = None) -> None:
        """Delete the row; a stream served by that session ends at its next wake-up."""
        key = session_key if session_key is not None else self.session_key
        super().delete(session_key)
        if key:
            access_version_bump()
