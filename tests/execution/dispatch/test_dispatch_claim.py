"""The dispatch claim as one UPDATE ... RETURNING, taken as the number the enqueue knew: one winner among
parallel claims on separate connections, a late copy of the message does nothing, and nothing is read
before the claim."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from execution import actions, tasks
from execution.engine import process as engines
from execution.engine.process import Handover
from orders.models import TradeOrder
from orders.services import create_trade_order
from orders.services import dispatch as dispatch_services

PARALLEL = 8


def place(user: Any, project: Any) -> TradeOrder:
    return create_trade_order(
        {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
    ).order


@pytest.fixture
def handed(monkeypatch: Any) -> list[str]:
    """engines.hand_over recorded (the order's tag per call), answering like a fresh engine start."""
    calls: list[str] = []

    def hand_over(*, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = "") -> Handover:
        calls.append(str(command["Tag"]))
        return Handover(kind="start", run_id="r-test", pid=4242)

    monkeypatch.setattr(engines, "hand_over", hand_over)
    return calls


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_on_their_own_connections_have_one_winner(user: Any, project: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers: PostgreSQL")
    order = place(user, project)
    barrier = threading.Barrier(PARALLEL)
    won: list[TradeOrder | None] = []
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            barrier.wait()
            won.append(dispatch_services.trade_order_claim_for_dispatch(order_id=order.pk, attempt=1))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    winners = [claimed for claimed in won if claimed is not None]
    assert len(won) == PARALLEL and len(winners) == 1
    # The winner's answer is the row its UPDATE left: claimed once, as number 1.
    assert winners[0].pk == order.pk and winners[0].dispatch_attempts == 1
    assert winners[0].dispatched_at is not None
    stored = TradeOrder.objects.get(pk=order.pk)
    assert (stored.dispatch_attempts, stored.dispatched_at) == (1, winners[0].dispatched_at)


@pytest.mark.django_db
def test_a_new_order_is_enqueued_as_its_first_claim(
    user: Any, project: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.execute_manual_order, "apply_async", lambda kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        order = place(user, project)
    assert sent == [{"order_id": order.pk, "mode": order.mode, "attempt": 1}]


@pytest.mark.django_db
def test_the_claim_is_the_first_statement_and_returns_the_claimed_row(
    user: Any, project: Any, handed: list[str], monkeypatch: Any
) -> None:
    order = place(user, project)
    before_hand_over: list[int] = []
    recorded = engines.hand_over

    def counting(**kwargs: Any) -> Handover:
        before_hand_over.append(len(captured))
        return recorded(**kwargs)

    monkeypatch.setattr(engines, "hand_over", counting)
    with CaptureQueriesContext(connection) as captured:
        result = actions.order_dispatch(order_id=order.pk, attempt=1)

    assert result.outcome == "dispatched" and handed == [order.client_order_id]
    # One statement from the task to the engine: the claim's UPDATE ... RETURNING (no read of the claims
    # before it, no read of the order after it).
    assert before_hand_over == [1], [query["sql"] for query in captured.captured_queries]
    assert captured.captured_queries[0]["sql"].startswith("UPDATE") and "RETURNING" in captured[0]["sql"]


@pytest.mark.django_db
def test_a_late_copy_of_the_message_after_a_released_and_retaken_claim_does_nothing(
    user: Any, project: Any, handed: list[str]
) -> None:
    order = place(user, project)
    assert actions.order_dispatch(order_id=order.pk, attempt=1).outcome == "dispatched"
    # The claim is given back (it provably never reached an engine) and the sweep's task takes claim 2.
    TradeOrder.objects.filter(pk=order.pk).update(dispatched_at=None)
    assert actions.order_dispatch(order_id=order.pk).outcome == "dispatched"

    late = actions.order_dispatch(order_id=order.pk, attempt=1)

    assert late.outcome == "skipped"
    assert handed == [order.client_order_id] * 2
    assert TradeOrder.objects.get(pk=order.pk).dispatch_attempts == 2


@pytest.mark.django_db
def test_after_the_hand_over_the_record_and_the_stage_times_are_one_transaction(
    user: Any, project: Any, handed: list[str], monkeypatch: Any
) -> None:
    order = place(user, project)
    at_hand_over: list[int] = []
    recorded = engines.hand_over

    def counting(**kwargs: Any) -> Handover:
        at_hand_over.append(len(captured))
        return recorded(**kwargs)

    monkeypatch.setattr(engines, "hand_over", counting)
    with CaptureQueriesContext(connection) as captured:
        assert actions.order_dispatch(order_id=order.pk, attempt=1).outcome == "dispatched"

    after = [query["sql"] for query in captured.captured_queries[at_hand_over[0] :]]
    # A plain order has no bracket legs to lock and record: no read of children.
    assert not any('"parent_id" =' in sql for sql in after), after
    # The test's own transaction turns the hand-over's into a savepoint: one, holding both writes.
    ends = [index for index, sql in enumerate(after) if sql.startswith("RELEASE SAVEPOINT")]
    stages = [index for index, sql in enumerate(after) if "orders_orderstagetimes" in sql]
    assert len(ends) == 1 and stages and stages[-1] < ends[0], after
