"""API tokens from the shared auth cache: a warm token needs no query, and a revoke or a user change ends it on
the next request, in this process and in another one (its own cache client and Redis connection)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import ApiToken
from orders.services import api_token_create, api_token_revoke
from orders.services.auth_cache import auth_cache_read, auth_cache_write
from tradedesk.cache import RedisCache as ReusedClientRedisCache

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.CACHE_URL, reason="the auth cache needs a shared (Redis) cache"),
]

URL = "/api/trade/orders?limit=5"


@contextmanager
def another_process() -> Iterator[Any]:
    """The auth cache as another web process sees it: a cache instance with its own client and connections."""
    other = caches.create_connection("default")
    try:
        with mock.patch("orders.services.auth_cache.cache", other):
            yield other
    finally:
        other.close()


def auth_queries(client: Client) -> tuple[int, list[str]]:
    """(status, the SQL of the request that reads the token and its user)."""
    with CaptureQueriesContext(connection) as captured:
        status = client.get(URL).status_code
    return status, [query["sql"] for query in captured if "orders_apitoken" in query["sql"]]


def test_the_shared_cache_is_redis_with_the_auth_cache_on() -> None:
    assert isinstance(caches["default"], ReusedClientRedisCache)
    assert settings.TRADEDESK_AUTH_CACHE_SECONDS > 0


def test_a_token_seen_seconds_ago_authenticates_without_a_query(api: Client, project: Any) -> None:
    assert auth_queries(api)[0] == 200
    status, sql = auth_queries(api)
    assert status == 200 and sql == []


def test_without_the_auth_cache_every_request_reads_the_token(
    api: Client, project: Any, settings: Any
) -> None:
    settings.TRADEDESK_AUTH_CACHE_SECONDS = 0
    auth_queries(api)
    status, sql = auth_queries(api)
    assert status == 200 and len(sql) == 1


def test_a_revoked_token_is_refused_on_the_next_request_with_a_warm_cache(api: Client, project: Any) -> None:
    auth_queries(api)
    assert auth_queries(api) == (200, [])
    api_token_revoke(token=ApiToken.objects.get())
    assert api.get(URL).status_code == 401


def test_a_revoke_in_another_process_ends_the_token_here(api: Client, project: Any) -> None:
    auth_queries(api)
    assert auth_queries(api) == (200, [])
    with another_process():
        api_token_revoke(token=ApiToken.objects.get())
    assert api.get(URL).status_code == 401


def test_a_revoke_here_ends_the_token_in_another_process(api: Client, project: Any) -> None:
    with another_process():
        auth_queries(api)
        assert auth_queries(api) == (200, [])
    api_token_revoke(token=ApiToken.objects.get())
    with another_process():
        assert api.get(URL).status_code == 401


def test_an_entry_stored_from_a_read_before_the_revoke_committed_is_never_used(
    api: Client, project: Any, user: Any, token: str, django_capture_on_commit_callbacks: Any
) -> None:
    import hashlib

    key = f"auth:token:{hashlib.sha256(token.encode()).hexdigest()}"
    with django_capture_on_commit_callbacks(execute=True):
        api_token_revoke(token=ApiToken.objects.get())
        # A concurrent request read the row before the revoke committed and stores it under the epoch it sees.
        _cached, epoch = auth_cache_read(key=key)
        auth_cache_write(key=key, value=(timezone.now(), user), epoch=epoch)
        assert auth_cache_read(key=key)[0] is not None
    assert auth_cache_read(key=key)[0] is None
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize("change", ["deactivate", "delete_user", "delete_token"])
def test_a_user_or_token_change_ends_cached_tokens_at_once(
    api: Client, project: Any, user: Any, change: str
) -> None:
    auth_queries(api)
    assert auth_queries(api) == (200, [])
    with another_process():
        if change == "deactivate":
            user.is_active = False
            user.save()
        elif change == "delete_user":
            user.delete()
        else:
            ApiToken.objects.get().delete()
    assert api.get(URL).status_code == 401


def test_tokens_created_later_still_authenticate(api: Client, project: Any, user: Any) -> None:
    auth_queries(api)
    raw = api_token_create(user=user, name="second")[1]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(URL).status_code == 200
    assert api.get(URL).status_code == 200


def test_an_unreachable_cache_falls_back_to_the_database(api: Client, project: Any) -> None:
    down = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    with mock.patch("orders.services.auth_cache.cache", down):
        auth_queries(api)
        status, sql = auth_queries(api)
        assert status == 200 and len(sql) == 1
        api_token_revoke(token=ApiToken.objects.get())
        assert api.get(URL).status_code == 401


def test_a_removed_membership_ends_orders_through_a_warm_token_on_the_next_request(
    api: Client, project: Any, user: Any, monkeypatch: Any
) -> None:
    """Membership is never cached: a warm token keeps its user, not the user's projects."""
    import json

    monkeypatch.setattr("execution.signals.dispatch_enqueue", lambda **kwargs: None)
    auth_queries(api)
    assert auth_queries(api) == (200, [])
    with another_process():
        project.members.remove(user)
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT", "project_id": project.pk}
    placed = api.post("/api/trade/orders", data=json.dumps(body), content_type="application/json")
    assert placed.status_code in (403, 404)
    assert not project.orders.exists()


def test_a_lost_epoch_key_leaves_no_entry_usable_and_revokes_still_end_tokens(
    api: Client, project: Any
) -> None:
    """Redis restarted or evicted the epoch key while entries survived: they were written under an epoch
    that never comes back, so the next request reads the database, and a later revoke still ends the token."""
    from django.core.cache import cache

    from orders.services.auth_cache import EPOCH_KEY

    auth_queries(api)
    assert auth_queries(api) == (200, [])
    cache.delete(EPOCH_KEY)
    status, sql = auth_queries(api)
    assert status == 200 and len(sql) == 1
    assert auth_queries(api) == (200, [])
    with another_process():
        api_token_revoke(token=ApiToken.objects.get())
    assert api.get(URL).status_code == 401
