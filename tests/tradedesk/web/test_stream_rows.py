"""The rows a push carries: an orders change sends the rows the page's token lacks (its own rows already sent
are not sent again) with the orders counter they are exactly the version of, rendered in the stream's
language and zone; too many changed rows, or a failed render, send none (the `orders` event still goes and
the page fetches); and the counter and the rows come from one snapshot, also while changes commit."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.db import connection, transaction
from django.utils import timezone, translation

from execution.models import HoldingsDiscrepancy
from orders.models import ProjectVersion, TradeOrder
from orders.services.versions import project_versions_bump
from tests.factories import TradeOrderFactory
from tests.tradedesk.web.test_stream import run
from tradedesk.web import stream, stream_db, stream_rows
from tradedesk.web.orders_table import orders_shown, rendered_rows, rows_token
from tradedesk.web.stream import Access
from tradedesk.web.stream_rows import Look, RowsSent, RowsSnapshot, rows_snapshot

pytestmark = pytest.mark.django_db(transaction=True)

EN = Look(language="en", zone="UTC")


@pytest.fixture(autouse=True)
def _close_stream_connection() -> Any:
    yield
    stream_db.db_close()


def page_token(project: Any) -> str:
    """The rows token of the table a page rendered now shows."""
    with translation.override(EN.language), timezone.override(EN.zone):
        rows = rendered_rows(orders_shown(project), project=project, selected_id=None, cutoff=timezone.now())
        return rows_token(rows, project=project)


async def _events(access: Access, token: str, *, change: Any) -> list[bytes]:
    """The stream's events from a page that saw the current versions and rows, until an `orders` event."""
    seen = (await stream.in_db(stream.access_check, access))[1]  # type: ignore[index]
    stream_iter = stream.stream_events(access, seen, RowsSent(token))
    events: list[bytes] = []

    async def later() -> None:
        await asyncio.sleep(0.5)
        await stream.in_db(change)

    task = asyncio.ensure_future(later())
    async for chunk in stream_iter:
        events.append(chunk)
        if b"event: orders" in chunk:
            break
    # The changed rows follow the event (none within a second: none are sent).
    with contextlib.suppress(TimeoutError):
        events.append(await asyncio.wait_for(stream_iter.__anext__(), 1.0))
    await stream_iter.aclose()
    await task
    return events


def rows_of(events: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(e.split(b"data: ", 1)[1]) for e in events if e.startswith(b"event: rows")]


def test_an_orders_change_pushes_the_changed_row_with_the_counter_it_is_the_version_of(
    access: Access, project: Any, settings: Any
) -> None:
    settings.TRADEDESK_PUSH_URL = ""
    moving, still = TradeOrderFactory(project=project, status="SUBMITTED"), TradeOrderFactory(project=project)
    token = page_token(project)

    def fill() -> None:
        moving.status, moving.filled_quantity = "FILLED", Decimal(1)
        moving.save()

    events = run(_events(access, token, change=fill))
    pushes = rows_of(events)
    assert len(pushes) == 1
    assert [row[0] for row in pushes[0]["rows"]] == [moving.pk]  # not the row the page has as it is
    assert 'data-status="FILLED"' in pushes[0]["rows"][0][1]
    assert pushes[0]["stamp"] == ProjectVersion.objects.get(project=project).orders
    # The rows come first, the `orders` event right after (its fetch brings the rest); the stream's first
    # push knows nothing of what else the page shows, so it covers nothing.
    assert events[-2].startswith(b"event: rows") and b"event: orders" in events[-1]
    assert b"data: orders\n" in events[-1]
    assert still.pk not in [row[0] for row in pushes[0]["rows"]]


def test_a_second_change_in_place_says_its_push_covers_the_table(
    access: Access, project: Any, settings: Any
) -> None:
    settings.TRADEDESK_PUSH_URL = ""
    order = TradeOrderFactory(project=project, status="SUBMITTED")
    TradeOrderFactory(project=project, status="FILLED")
    token = page_token(project)

    def note(text: str) -> Any:
        def change() -> None:
            TradeOrder.objects.filter(pk=order.pk).update(status_message=text)
            project_versions_bump([project.pk])

        return change

    async def two_changes() -> list[bytes]:
        seen = (await stream.in_db(stream.access_check, access))[1]  # type: ignore[index]
        stream_iter = stream.stream_events(access, seen, RowsSent(token))
        events: list[bytes] = []

        async def later() -> None:
            for text in ("routed", "working at the exchange"):
                await asyncio.sleep(0.5)
                await stream.in_db(note(text))

        task = asyncio.ensure_future(later())
        async for chunk in stream_iter:
            events.append(chunk)
            if len([e for e in events if b"event: orders" in e]) == 2:
                break
        await stream_iter.aclose()
        await task
        return events

    events = [e for e in run(two_changes()) if e.startswith((b"event: rows", b"id:"))]
    assert [e.split(b"\n", 2)[1 if e.startswith(b"id:") else 0][:13] for e in events] == [
        b"event: rows",
        b"event: orders",
        b"event: rows",
        b"event: orders",
    ]
    assert b"data: orders\n" in events[1]  # the first push: what else the page shows is not known yet
    counter = ProjectVersion.objects.get(project=project).orders
    assert rows_of(events)[1]["stamp"] == counter
    assert f"data: covered {counter}\n".encode() in events[3]


def _in_place(order: TradeOrder) -> None:
    TradeOrder.objects.filter(pk=order.pk).update(status_message="still working")


@pytest.mark.parametrize(
    "change",
    ["a new order", "a row leaves the working ones", "positions", "trading state", "reconciliation flag"],
)
def test_a_push_covers_the_table_only_when_its_rows_are_all_the_answer_would_change(
    project: Any, change: str
) -> None:
    TradeOrderFactory(project=project, status="FILLED")
    working = TradeOrderFactory(project=project, status="SUBMITTED")  # the newest: first, filled or not
    sent = RowsSent(page_token(project))
    TradeOrder.objects.filter(pk=working.pk).update(status_message="routed")
    assert sent.changed(rows_snapshot(project.pk, EN)) and not sent.covered  # nothing known of the rest yet
    TradeOrder.objects.filter(pk=working.pk).update(status_message="at the exchange")
    assert sent.changed(rows_snapshot(project.pk, EN)) and sent.covered

    _in_place(working)
    if change == "a new order":
        TradeOrderFactory(project=project, status="SUBMITTED")
    elif change == "a row leaves the working ones":
        TradeOrder.objects.filter(pk=working.pk).update(status="FILLED", filled_quantity=Decimal(1))
    elif change == "positions":
        project_versions_bump([project.pk], positions=[project.pk])
    elif change == "trading state":
        type(project).objects.filter(pk=project.pk).update(trading_state="REDUCING")
    else:
        now = timezone.now()
        HoldingsDiscrepancy.objects.create(
            mode=project.mode,
            symbol="AAPL",
            engine_quantity=Decimal(1),
            ledger_quantity=Decimal(0),
            first_seen_at=now,
            last_seen_at=now,
        )
    assert sent.changed(rows_snapshot(project.pk, EN))
    assert not sent.covered
    # Rows in or moved, the head: still the table's change alone (the order's own POST answer may bring it).
    assert sent.table_only == (change in ("a new order", "a row leaves the working ones"))


def test_more_changed_rows_than_a_push_carries_send_none(access: Access, project: Any, settings: Any) -> None:
    settings.TRADEDESK_PUSH_URL = ""
    orders = [
        TradeOrderFactory(project=project, status="SUBMITTED") for _ in range(stream_rows.PUSH_ROWS_MAX + 1)
    ]
    token = page_token(project)

    def cancel_all() -> None:
        TradeOrder.objects.filter(pk__in=[o.pk for o in orders]).update(status="CANCELED")
        project_versions_bump([project.pk])

    events = run(_events(access, token, change=cancel_all))
    assert rows_of(events) == []
    assert any(b"event: orders" in e for e in events)


def test_a_failed_render_still_sends_the_orders_event(
    access: Access, project: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.TRADEDESK_PUSH_URL = ""
    order = TradeOrderFactory(project=project, status="SUBMITTED")
    token = page_token(project)

    def broken(project_id: int, look: Look) -> RowsSnapshot:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(stream, "rows_snapshot", broken)
    events = run(_events(access, token, change=lambda: TradeOrder.objects.get(pk=order.pk).save()))
    assert rows_of(events) == []
    assert any(b"event: orders" in e for e in events)


def test_pushed_rows_are_rendered_in_the_streams_language_and_zone(project: Any) -> None:
    TradeOrderFactory(project=project, status="SUBMITTED")
    look = Look(language="zh-hans", zone="Asia/Tokyo")
    pushed = rows_snapshot(project.pk, look).rows[0].html
    with translation.override("zh-hans"), timezone.override("Asia/Tokyo"):
        rows = rendered_rows(orders_shown(project), project=project, selected_id=None, cutoff=timezone.now())
    assert pushed == rows[0].html
    assert pushed != rows_snapshot(project.pk, EN).rows[0].html


@pytest.mark.parametrize(
    "token", ["", "garbage", "~", "x~1.,.,abc.def", "frame~" + ",".join(["9.x"] * 5000), "f~-1.a,2..b"]
)
def test_a_hostile_rows_token_only_means_more_rows_are_sent(project: Any, token: str) -> None:
    order = TradeOrderFactory(project=project)
    snapshot = rows_snapshot(project.pk, EN)
    assert [row.order_id for row in RowsSent(token).changed(snapshot) or []] == [order.pk]


def test_rows_already_pushed_are_not_pushed_again(project: Any) -> None:
    TradeOrderFactory(project=project)
    sent = RowsSent("")
    snapshot = rows_snapshot(project.pk, EN)
    assert sent.changed(snapshot)
    assert sent.changed(snapshot) is None


def test_the_counter_and_the_rows_are_one_snapshot_while_changes_commit(project: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    order = TradeOrderFactory(project=project, status="SUBMITTED", quantity=Decimal(1000))
    base = ProjectVersion.objects.get(project=project).orders
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        # Each commit: the order's filled quantity n and its project's counter base + n (post_save bumps it).
        try:
            for filled in range(1, 400):
                if stop.is_set():
                    break
                with transaction.atomic():
                    TradeOrder.objects.filter(pk=order.pk).update(filled_quantity=Decimal(filled))
                    project_versions_bump([project.pk])
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = set()
        while thread.is_alive():
            snapshot = rows_snapshot(project.pk, EN)
            filled = snapshot.counter - base
            assert f"{filled} / 1,000" in str(snapshot.rows[0].html), (snapshot.counter, base)
            seen.add(filled)
    finally:
        stop.set()
        thread.join(30)
    assert not failures
    assert len(seen) > 5  # the reads really interleaved with the writes
