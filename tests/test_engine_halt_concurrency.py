"""The engine halt against order creation on PostgreSQL, with real threads (each its own connection): the
order check reads the halt FOR SHARE and the halt change takes it FOR UPDATE, so no order that adds risk
commits after a halt has committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from orders.errors import EngineHalted
from orders.models import AuditLog, EngineHalt, Project, TradeOrder
from orders.services import (
    Actor,
    clean_order_payload,
    create_trade_order,
    engine_halt_set,
    order_create_locked,
    project_lock,
)
from tests.factories import UserFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAIT = 20  # seconds a step may wait for the other thread before the test gives up


class Worker(threading.Thread):
    """Runs call() on its own database connection and keeps its result or exception."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as exc:  # handed to the test, never swallowed
            self.error = exc
        finally:
            connection.close()


def waiting_on_a_lock(worker: Worker) -> bool:
    """Whether the worker is blocked on a row lock of the halt table (True), or has finished (False)."""

    def settled() -> str:
        if not worker.is_alive():
            return "done"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
                "AND query ILIKE %s",
                ["%orders_enginehalt%"],
            )
            return "blocked" if cursor.fetchone()[0] else ""

    return wait_for(settled, timeout=WAIT) == "blocked"


def buy(project: Project) -> dict[str, Any]:
    return {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}


@pytest.fixture
def staff(transactional_db: Any) -> Any:
    return UserFactory(username="desk-lead", is_staff=True)


@pytest.fixture(params=["stored", "first_use"])
def halt_row(request: Any, transactional_db: Any) -> str:
    """The mode's halt row exists (the usual case) or is created by whichever transaction comes first."""
    # The migration's rows are there until a transactional test has flushed the tables: each case sets its own.
    if request.param == "stored":
        EngineHalt.objects.get_or_create(mode="paper")
    else:
        EngineHalt.objects.filter(mode="paper").delete()
    return str(request.param)


def test_a_halt_waits_for_an_order_checked_before_it_and_commits_after_that_order(
    project: Project, user: Any, staff: Any, halt_row: str
) -> None:
    checked, release = threading.Event(), threading.Event()

    def place() -> TradeOrder:
        with transaction.atomic():
            locked = project_lock(project_id=project.pk)
            result = order_create_locked(project=locked, clean=clean_order_payload(buy(project)), user=user)
            checked.set()  # the check passed; the transaction (and its share lock) stays open
            assert release.wait(WAIT)
        return result.order

    trader = Worker(place)
    trader.start()
    assert checked.wait(WAIT)
    halter = Worker(
        lambda: engine_halt_set(mode="paper", halted=True, reason="drill", actor=Actor(user=staff))
    )
    halter.start()
    still_waiting = waiting_on_a_lock(halter)
    release.set()
    trader.join(WAIT)
    halter.join(WAIT)
    assert trader.error is None and halter.error is None, (trader.error, halter.error)
    assert still_waiting, "the halt committed while an order checked before it was still open"
    # The order committed first: its audit entry precedes the halt's, and the halt stands.
    placed = AuditLog.objects.get(action="order_create", order=trader.result)
    halted = AuditLog.objects.get(action="engine_halt")
    assert placed.pk < halted.pk
    assert EngineHalt.objects.get(mode="paper").halted
    with pytest.raises(EngineHalted):
        create_trade_order(buy(project), user=user)


def test_an_order_checked_while_a_halt_is_uncommitted_waits_and_is_refused(
    project: Project, user: Any, staff: Any, halt_row: str
) -> None:
    changed, release = threading.Event(), threading.Event()

    def halt() -> None:
        with transaction.atomic():
            engine_halt_set(mode="paper", halted=True, reason="drill", actor=Actor(user=staff))
            changed.set()  # written, not committed: the row stays locked FOR UPDATE
            assert release.wait(WAIT)

    halter = Worker(halt)
    halter.start()
    assert changed.wait(WAIT)
    trader = Worker(lambda: create_trade_order(buy(project), user=user))
    trader.start()
    still_waiting = waiting_on_a_lock(trader)
    release.set()
    halter.join(WAIT)
    trader.join(WAIT)
    assert halter.error is None, halter.error
    assert still_waiting, "the order check did not wait for the uncommitted halt"
    assert isinstance(trader.error, EngineHalted), trader.error
    assert not TradeOrder.objects.filter(project=project).exists()


def test_parallel_orders_and_a_halt_leave_no_order_audited_after_the_halt(
    project: Project, user: Any, staff: Any, halt_row: str
) -> None:
    barrier = threading.Barrier(9)

    def place(index: int) -> Callable[[], Any]:
        def call() -> Any:
            barrier.wait(WAIT)
            payload = {**buy(project), "client_order_id": f"race-{index}"}
            try:
                return create_trade_order(payload, user=user).order.pk
            except EngineHalted:
                return None

        return call

    def halt() -> Any:
        barrier.wait(WAIT)
        return engine_halt_set(mode="paper", halted=True, reason="drill", actor=Actor(user=staff))

    workers = [Worker(place(i)) for i in range(8)] + [Worker(halt)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT * 2)
    assert all(worker.error is None for worker in workers), [w.error for w in workers]
    placed = {worker.result for worker in workers[:8]} - {None}
    refused = sum(1 for worker in workers[:8] if worker.result is None)
    assert len(placed) + refused == 8
    # Each order's audit entry is written in its transaction after the check: an order whose check passed
    # before the halt committed; the halt waited for it, so the halt's entry comes after every order's.
    halt_entry = AuditLog.objects.get(action="engine_halt")
    order_entries = AuditLog.objects.filter(action="order_create", project=project)
    assert set(order_entries.values_list("order_id", flat=True)) == placed
    assert all(entry.pk < halt_entry.pk for entry in order_entries)
