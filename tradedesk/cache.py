"""Django's Redis cache, keeping one redis-py client per connection pool instead of one per operation."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    """redis.Redis() builds its ~300 response callbacks on every construction; Django constructs one per
    cache call. A client is a thin, thread-safe wrapper over its pool, so one per pool serves every call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """The pool's one client (made on first use)."""
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # private, not in django-stubs
        client = self._clients.get(id(pool))
        if client is None:
            made = self._client(connection_pool=pool)  # type: ignore[attr-defined]  # redis.Redis
            client = self._clients.setdefault(id(pool), made)
        return client


class RedisCache(DjangoRedisCache):
    """django.core.cache.backends.redis.RedisCache with reused clients."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
