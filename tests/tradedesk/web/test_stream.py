"""The push stream's rules, without a browser: access is the session, the user and the membership (a logout,
a new password, a deactivation or a removed membership ends the stream, at its next wake-up, which such a
change causes by itself), a wake-up for the book's changes costs no access query, a reconnect resumes from
the version it saw (Last-Event-ID), and without Redis the hub notices a committed change by watching the
change counter."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from orders.services.versions import project_versions_bump
from tradedesk.web import stream, stream_db
from tradedesk.web.stream import Access, Seen, access_check
from tradedesk.web.stream_rows import RowsSent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_stream_connection() -> Any:
    yield
    stream_db.db_close()


def test_access_holds_while_the_session_grants_the_project(access: Access, project: Any) -> None:
    state = access_check(access)
    assert state is not None and state[0] == project.mode


def test_a_logout_ends_access(access: Access) -> None:
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore(session_key=access.session_key).delete()
    assert access_check(access) is None


def test_a_new_password_or_a_deactivation_ends_access(access: Access, user: Any) -> None:
    user.set_password("another one entirely")
    user.save()
    assert access_check(access) is None


def test_a_removed_membership_ends_access(access: Access, user: Any, project: Any) -> None:
    project.members.remove(user)
    assert access_check(access) is None


async def _collect(access: Access, seen: Seen, *, until: int, after: Any = None) -> list[bytes]:
    """The stream's chunks until `until` events came; `after` runs (committed) while the stream waits."""
    events: list[bytes] = []
    stream_iter = stream.stream_events(access, seen, RowsSent(""))

    async def later() -> None:
        await asyncio.sleep(0.5)  # the stream has sent what it had and waits on the hub
        await stream.in_db(after)

    task = asyncio.ensure_future(later()) if after is not None else None
    async for chunk in stream_iter:
        events.append(chunk)
        if len([e for e in events if e.startswith((b"id:", b"event: denied"))]) >= until:
            await stream_iter.aclose()
            break
    if task is not None:
        await task
    return events


def run(coroutine: Any, timeout: float = 20) -> Any:
    """asyncio.run on a thread of its own: a browser test earlier in the session leaves Playwright's loop
    running on this one, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coroutine, timeout)).result()


def test_a_fresh_stream_tells_both_parts_and_a_resumed_one_only_what_moved(
    access: Access, project: Any, settings: Any
) -> None:
    settings.TRADEDESK_PUSH_URL = ""  # the embedded defaults: the hub watches the change counter
    first = run(_collect(access, Seen(), until=1))
    orders_event = next(e for e in first if e.startswith(b"id:")).decode()
    last_id = orders_event.split("\n", 1)[0].removeprefix("id: ")
    assert "event: orders" in orders_event

    # Reconnecting with what it saw: nothing until a committed change moves the project's counter.
    events = run(
        _collect(access, Seen.parse(last_id), until=1, after=lambda: project_versions_bump([project.pk]))
    )
    changed = [e.decode() for e in events if e.startswith(b"id:")]
    assert len(changed) == 1 and "event: orders" in changed[0] and last_id not in changed[0]


def test_a_revoked_session_ends_an_open_stream_at_the_next_wake_up(
    access: Access, project: Any, user: Any, settings: Any
) -> None:
    settings.TRADEDESK_PUSH_URL = ""

    def revoke() -> None:
        project.members.remove(user)
        project_versions_bump([project.pk])

    events = run(_collect(access, Seen(), until=3, after=revoke))  # orders, account, then the end
    assert events[-1] == b"event: denied\ndata: denied\n\n"


@pytest.mark.parametrize("pushed", [False, True], ids=["change-counter", "redis"])
def test_a_removed_membership_alone_ends_an_open_stream(
    access: Access, project: Any, user: Any, settings: Any, pushed: bool
) -> None:
    # Nothing else changes: the access counter's own move (in the change token, or its message) wakes it.
    if not pushed:
        settings.TRADEDESK_PUSH_URL = ""
    elif not settings.TRADEDESK_PUSH_URL:
        pytest.skip("needs Redis (TRADEDESK_PUSH_URL or a redis:// broker)")

    events = run(_collect(access, Seen(), until=3, after=lambda: project.members.remove(user)))
    assert events[-1] == b"event: denied\ndata: denied\n\n"


def test_a_wake_up_for_the_books_changes_costs_no_access_query(
    access: Access, project: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.TRADEDESK_PUSH_URL = ""
    checks: list[Access] = []

    def counted(checked: Access) -> Any:
        checks.append(checked)
        return access_check(checked)

    monkeypatch.setattr(stream, "access_check", counted)
    first = run(_collect(access, Seen(), until=1))
    last_id = next(e for e in first if e.startswith(b"id:")).decode().split("\n", 1)[0].removeprefix("id: ")
    checks.clear()

    def bump() -> None:
        project_versions_bump([project.pk])

    async def two_changes() -> list[bytes]:
        events = asyncio.ensure_future(_collect(access, Seen.parse(last_id), until=2))
        for _ in range(2):
            await asyncio.sleep(0.5)  # two wake-ups, the stream waiting on the hub before each
            await stream.in_db(bump)
        return await events

    events = run(two_changes())
    assert len([e for e in events if b"event: orders" in e]) == 2
    assert checks == [access]  # the stream's opening check only
