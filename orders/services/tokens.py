"""API tokens: created once, stored hashed, revoked at once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone

from orders.models import (
    ApiToken,
)
from orders.services.auth_cache import auth_cache_invalidate, auth_cache_read, auth_cache_write

# last_used_at is recorded at most once per this interval per token.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, user: Any, name: str = "") -> tuple[ApiToken, str]:
    """A new random token; the raw value is returned once and only its SHA-256 is stored."""
    raw = "td_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, token_hash=_hash_token(raw), prefix=raw[:10])
    return token, raw


def api_token_authenticate(*, raw: str) -> Any | None:
    """The active user owning this token, or None (from the shared auth cache when seen seconds ago)."""
    if not raw or len(raw) > 200:
        return None
    digest = _hash_token(raw)
    key = f"auth:token:{digest}"
    cached, epoch = auth_cache_read(key=key)
    now = timezone.now()
    if cached is not None:
        last_used_at, user = cached
        if now - last_used_at <= LAST_USED_EVERY:
            return user
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    auth_cache_write(key=key, value=(token.last_used_at, token.user), epoch=epoch)
    return token.user


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a token; it stops working at once, in every process (the shared auth cache's epoch ends)."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    auth_cache_invalidate()
