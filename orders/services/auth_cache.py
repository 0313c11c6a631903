"""The shared auth cache: recently seen tokens, sessions and users, all invalidated by one epoch.

Every entry is stored as (epoch, value), where epoch is the value of the epoch key read *before* the database
was read. Anything that may end someone's access (a token revoked or deleted, a user saved, deleted or given
other groups or permissions, a session deleted at logout) replaces the epoch: entries written under an older
epoch are never used again, in any process sharing the cache, including an entry a concurrent request was
still filling from the database it read before the change committed. Changes are rare (logins, logouts,
revokes, admin edits), so one epoch for everything costs a database read per active client after each.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

EPOCH_KEY = "auth:epoch"


def auth_cache_enabled() -> bool:
    """True when a shared cache holds auth entries (TRADEDESK_AUTH_CACHE_SECONDS > 0)."""
    return settings.TRADEDESK_AUTH_CACHE_SECONDS > 0


def auth_cache_read(*, key: str, version_key: str | None = None) -> tuple[Any | None, str | None]:
    """(the entry's value when written under the current epoch, else None; the current epoch).

    With a version_key (one entry's own epoch, which auth_cache_new_version replaces), the epoch read is
    both: a change of that entry alone ends what a concurrent read of the database is about to store.
    The epoch is None when caching is off or the cache does not answer: then nothing may be written."""
    if not auth_cache_enabled():
        return None, None
    keys = [EPOCH_KEY, key] if version_key is None else [EPOCH_KEY, key, version_key]
    try:
        found = cache.get_many(keys)
        if found.get(EPOCH_KEY) is None:
            cache.add(EPOCH_KEY, uuid.uuid4().hex, timeout=None)
            found = {**cache.get_many(keys), key: None}
    except Exception as exc:  # an unreachable cache means the database answers, never an error page
        logger.warning("auth cache unavailable (%s); reading the database", exc)
        return None, None
    epoch = found.get(EPOCH_KEY)
    if epoch is None:
        return None, None
    if version_key is not None:
        epoch = f"{epoch}:{found.get(version_key) or ''}"
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == epoch:
        return entry[1], epoch
    return None, epoch


def auth_cache_write(*, key: str, value: Any, epoch: str | None, timeout: float | None = None) -> None:
    """Store value under the epoch read before the database was (nothing when that epoch is None)."""
    if epoch is None or not auth_cache_enabled():
        return
    seconds = float(settings.TRADEDESK_AUTH_CACHE_SECONDS)
    if timeout is not None:
        seconds = min(seconds, timeout)
    if seconds <= 0:
        return
    try:
        cache.set(key, (epoch, value), timeout=seconds)
    except Exception as exc:
        logger.warning("auth cache unavailable (%s); entry not stored", exc)


def auth_cache_delete(*, key: str) -> None:
    """Drop one entry (its next read goes to the database)."""
    if not auth_cache_enabled():
        return
    try:
        cache.delete(key)
    except Exception as exc:
        logger.warning("auth cache unavailable (%s); entry not deleted", exc)


def auth_cache_new_version(*, version_key: str, timeout: float) -> None:
    """End one entry read with this version_key, including one a concurrent read is about to store."""
    if not auth_cache_enabled():
        return
    try:
        cache.set(version_key, uuid.uuid4().hex, timeout=timeout)
    except Exception as exc:
        logger.warning("auth cache unavailable (%s); entry version not replaced", exc)


def _new_epoch() -> None:
    try:
        cache.set(EPOCH_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # Entries then live at most TRADEDESK_AUTH_CACHE_SECONDS; nothing else can be done from here.
        logger.error("auth cache unavailable: cached auth ends only when its entries expire", exc_info=True)


def auth_cache_invalidate() -> None:
    """End every cached token, session and user now and again after the current transaction commits.

    Now: this transaction's own later reads see the change. After the commit: a request that read the
    database before the commit and stored its entry in between is invalidated too."""
    if not auth_cache_enabled():
        return
    _new_epoch()
    transaction.on_commit(_new_epoch, robust=True)


def auth_cache_invalidate_on_change(sender: Any, **kwargs: Any) -> None:
    """Signal receiver: a user, group, permission or token changed (post_save, post_delete, m2m_changed)."""
    if kwargs.get("action", "post_").startswith("post_"):
        auth_cache_invalidate()
