"""Sessions and their users from the shared auth cache: a warm poll needs no session or user query, and a
logout, deactivation, password or permission change takes effect on the next request, in any process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import ProjectFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.CACHE_URL, reason="the auth cache needs a shared (Redis) cache"),
]


@contextmanager
def another_process() -> Iterator[None]:
    """The auth cache as another web process sees it: a cache instance with its own client and connections."""
    other = caches.create_connection("default")
    try:
        with mock.patch("orders.services.auth_cache.cache", other):
            yield
    finally:
        other.close()


def poll(client: Client, project: Any) -> tuple[int, list[str]]:
    """(status of the page's orders poll, its session and user queries)."""
    with CaptureQueriesContext(connection) as captured:
        status = client.get(f"/live-trade/orders?project={project.pk}", HTTP_HX_REQUEST="true").status_code
    auth = [
        q["sql"]
        for q in captured
        if "django_session" in q["sql"] or q["sql"].startswith('SELECT "auth_user"')
    ]
    return status, auth


@pytest.fixture
def logged_in(user: Any, project: Any) -> Client:
    """alice logged in, her session and user already in the cache."""
    # The first poll copies her time zone into the session (a save drops its cache entry); the second reads
    # the saved session once and caches it.
    client = Client()
    client.force_login(user)
    assert poll(client, project)[0] == 200
    assert poll(client, project)[0] == 200
    return client


def copy_of(client: Client) -> Client:
    """Another client sending the same session cookie (a second tab, or a stolen cookie)."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other


def test_a_warm_poll_reads_neither_the_session_nor_the_user(logged_in: Client, project: Any) -> None:
    assert poll(logged_in, project) == (200, [])


def test_without_the_auth_cache_each_poll_reads_session_and_user(
    logged_in: Client, project: Any, settings: Any
) -> None:
    settings.TRADEDESK_AUTH_CACHE_SECONDS = 0
    status, sql = poll(logged_in, project)
    assert status == 200 and len(sql) == 2


@pytest.mark.parametrize("where", ["here", "another process"])
def test_logout_ends_every_copy_of_the_session_on_the_next_request(
    logged_in: Client, project: Any, where: str
) -> None:
    tab = copy_of(logged_in)
    assert poll(tab, project) == (200, [])
    if where == "here":
        logged_in.post("/accounts/logout/")
    else:
        with another_process():
            logged_in.post("/accounts/logout/")
    assert poll(tab, project)[0] == 401


def test_a_cached_session_seen_in_another_process_ends_with_a_logout_here(
    logged_in: Client, project: Any
) -> None:
    tab = copy_of(logged_in)
    with another_process():
        poll(tab, project)
        assert poll(tab, project) == (200, [])
    logged_in.post("/accounts/logout/")
    with another_process():
        assert poll(tab, project)[0] == 401


@pytest.mark.parametrize("where", ["here", "another process"])
def test_deactivating_the_user_ends_the_session_on_the_next_request(
    logged_in: Client, project: Any, user: Any, where: str
) -> None:
    assert poll(logged_in, project) == (200, [])
    user.is_active = False
    if where == "here":
        user.save()
    else:
        with another_process():
            user.save()
    assert poll(logged_in, project)[0] == 401


def test_a_password_change_elsewhere_logs_this_session_out(
    logged_in: Client, project: Any, user: Any
) -> None:
    assert poll(logged_in, project) == (200, [])
    with another_process():
        user.set_password("a-new-password-1")
        user.save()
    assert poll(logged_in, project)[0] == 401


def test_losing_staff_or_a_permission_takes_effect_on_the_next_request(project: Any) -> None:
    clerk: Any = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_tradeorder"))
    client = Client()
    client.force_login(clerk)
    orders = "/admin/orders/tradeorder/"
    assert client.get(orders).status_code == 200
    assert client.get(orders).status_code == 200
    with another_process():
        clerk.user_permissions.remove(Permission.objects.get(codename="view_tradeorder"))
    assert client.get(orders).status_code == 403
    with another_process():
        clerk.is_staff = False
        clerk.save()
    assert client.get(orders).status_code == 302


def test_a_session_written_after_it_was_cached_is_read_back_new(logged_in: Client, project: Any) -> None:
    from tradedesk.web.access import SESSION_PROJECT_KEY

    beta: Any = ProjectFactory(name="beta", members=list(project.members.all()))
    assert logged_in.session.get(SESSION_PROJECT_KEY) != beta.pk
    assert logged_in.get(f"/live-trade?project={beta.pk}").status_code == 200
    assert logged_in.session[SESSION_PROJECT_KEY] == beta.pk


def test_a_session_read_before_a_save_is_not_cached_over_it(logged_in: Client, project: Any) -> None:
    """A poll reads the row, another request of the same session saves new data (the time zone copy of a
    page load) and drops the entry, then the poll stores what it read: the next request must not get the
    old data back."""
    from orders.services.auth_cache import auth_cache_delete
    from tradedesk.middleware import SESSION_TIME_ZONE_KEY
    from tradedesk.web.sessions_cached import SessionStore

    key = logged_in.cookies["sessionid"].value
    auth_cache_delete(key=SessionStore.cache_key_prefix + key)
    poll_store = SessionStore(key)
    read_row = poll_store._get_session_from_db

    def read_then_another_request_saves() -> Any:
        stored = read_row()
        page_store = SessionStore(key)
        page_store[SESSION_TIME_ZONE_KEY] = "Asia/Tokyo"
        page_store.save()
        return stored

    with mock.patch.object(poll_store, "_get_session_from_db", read_then_another_request_saves):
        assert poll_store.load().get(SESSION_TIME_ZONE_KEY) != "Asia/Tokyo"
    assert SessionStore(key).load()[SESSION_TIME_ZONE_KEY] == "Asia/Tokyo"


def test_a_removed_membership_hides_the_project_from_a_warm_session_on_the_next_request(
    logged_in: Client, project: Any, user: Any
) -> None:
    assert poll(logged_in, project) == (200, [])
    with another_process():
        project.members.remove(user)
    assert poll(logged_in, project)[0] == 404
