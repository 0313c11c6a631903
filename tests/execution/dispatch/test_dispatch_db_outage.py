"""The dispatch task retried when PostgreSQL drops its connection: a real server-side error (the task's own
backend terminated with pg_terminate_backend at a chosen step), the retry gets past its own claim, and the
order reaches the engine exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection, connections

from execution import tasks
from execution.dispatch import handover
from execution.engine import process as engines
from execution.ingest.events import ingest_execution_events
from orders.models import OrderStatus, TradeOrder
from orders.services import create_trade_order
from orders.services import dispatch as dispatch_services
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")


def terminate_my_connection() -> None:
    """End this thread's database session from another connection, as a server restart does."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


class Once:
    """Runs `before` on the first call only, then the wrapped function (or `after` it, with after=True)."""

    def __init__(self, wrapped: Any, *, after: bool = False) -> None:
        self.wrapped, self.after, self.fired = wrapped, after, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        first = not self.fired
        self.fired += 1
        if first and not self.after:
            terminate_my_connection()
        result = self.wrapped(*args, **kwargs)
        if first and self.after:
            terminate_my_connection()
        return result


class ClaimAnswerLost:
    """An execute wrapper: the first dispatch claim runs and commits (autocommit), then the session is ended
    and the answer never reaches the task, as when the server goes away between its commit and its reply."""

    def __init__(self) -> None:
        self.fired = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not self.fired and sql.startswith("UPDATE") and '"dispatched_at"' in sql and "RETURNING" in sql:
            self.fired += 1
            terminate_my_connection()
            raise OperationalError("server closed the connection unexpectedly")
        return result


def place(user: Any, project: Any) -> TradeOrder:
    return create_trade_order(
        {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
    ).order


def submitted_lines(order: TradeOrder) -> list[dict[str, Any]]:
    events = engines.engine_dir(order.mode) / "events.jsonl"
    lines = [json.loads(x) for x in events.read_text().splitlines() if x.strip()] if events.exists() else []
    return [x for x in lines if x.get("tag") == order.client_order_id and x.get("status") == "Submitted"]


def runs_started(mode: str) -> list[Path]:
    return sorted((engines.engine_dir(mode) / "runs").glob("*.parameters.json"))


def filled(order: TradeOrder) -> bool:
    ingest_execution_events()
    return TradeOrder.objects.get(pk=order.pk).status == OrderStatus.FILLED


def test_connection_lost_right_after_the_claim_retries_as_the_same_claim_and_sends_once(
    user: Any, project: Any
) -> None:
    order = place(user, project)
    # The claim's UPDATE ... RETURNING commits, then the session dies before its answer is used.
    lost = ClaimAnswerLost()

    with connection.execute_wrapper(lost):
        tasks.execute_manual_order.apply(kwargs={"order_id": order.pk, "mode": order.mode, "attempt": 1})

    assert lost.fired == 1
    order.refresh_from_db()
    assert order.dispatch_attempts == 1  # the retry resumed claim 1; it did not claim again
    assert order.params["manual_execution"]["handover"] == "start"
    assert len(runs_started(order.mode)) == 1
    assert wait_for(lambda: filled(order), 30)
    assert len(submitted_lines(order)) == 1


def test_connection_lost_after_the_hand_over_never_sends_the_order_again(
    user: Any, project: Any, monkeypatch: Any
) -> None:
    order = place(user, project)
    # The engine starts with the order, then the session dies before the hand-over is recorded.
    hand_over = Once(engines.hand_over, after=True)
    monkeypatch.setattr(engines, "hand_over", hand_over)

    tasks.execute_manual_order.apply(kwargs={"order_id": order.pk, "mode": order.mode})

    assert hand_over.fired == 1  # the retry saw the engine's run record and did not hand over again
    order.refresh_from_db()
    assert order.dispatch_attempts == 1 and order.status != OrderStatus.FAILED
    assert len(runs_started(order.mode)) == 1
    assert wait_for(lambda: filled(order), 30)
    assert len(submitted_lines(order)) == 1


def test_connection_lost_before_the_claim_retries_with_a_fresh_claim(user: Any, project: Any) -> None:
    order = place(user, project)
    terminate_my_connection()

    tasks.execute_manual_order.apply(kwargs={"order_id": order.pk, "mode": order.mode})

    order.refresh_from_db()
    assert order.dispatch_attempts == 1 and order.params["manual_execution"]["handover"] == "start"
    assert wait_for(lambda: filled(order), 30)
    assert len(submitted_lines(order)) == 1


def test_a_claim_released_by_the_sweep_meanwhile_is_not_resumed(user: Any, project: Any) -> None:
    order = place(user, project)
    assert dispatch_services.trade_order_claim_for_dispatch(order_id=order.pk, attempt=1) is not None
    # The sweep released claim 1 and a new task took claim 2: the retry of claim 1 must send nothing.
    assert dispatch_services.trade_order_release_claim(order_id=order.pk, reason="test")
    assert dispatch_services.trade_order_claim_for_dispatch(order_id=order.pk, attempt=2) is not None

    result = handover.order_dispatch(order_id=order.pk, resume_attempt=1)

    assert result.outcome == "skipped"
    assert runs_started(order.mode) == []
    assert TradeOrder.objects.get(pk=order.pk).dispatch_attempts == 2


def test_a_second_claim_with_the_same_number_is_refused(user: Any, project: Any) -> None:
    order = place(user, project)
    assert dispatch_services.trade_order_claim_for_dispatch(order_id=order.pk, attempt=1) is not None
    assert dispatch_services.trade_order_release_claim(order_id=order.pk, reason="test")
    assert dispatch_services.trade_order_claim_for_dispatch(order_id=order.pk, attempt=1) is None
