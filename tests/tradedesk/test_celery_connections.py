"""A worker thread keeps its database connection from one task to the next (Celery's Django fixup closed it
around every task: a new PostgreSQL backend per dispatch), and still drops a broken one or one past
CONN_MAX_AGE, as Django does around a request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection, connections

from tradedesk.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_fixup() -> Iterator[DjangoWorkerFixup]:
    """The fixup a worker installs at start (its task_prerun/postrun handlers), removed afterwards."""
    fixup = DjangoWorkerFixup(app)
    task_prerun.connect(fixup.on_task_prerun)
    task_postrun.connect(fixup.on_task_postrun)
    yield fixup
    task_prerun.disconnect(fixup.on_task_prerun)
    task_postrun.disconnect(fixup.on_task_postrun)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def run_task() -> int:
    """What the worker sends around one task, with the task's query between: the backend it ran on."""
    task: Any = app.tasks["execution.tasks.analyze_small_tables"]
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    pid = backend_pid()
    task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None, state="SUCCESS")
    return pid


def test_tasks_of_one_thread_share_its_connection(worker_fixup: DjangoWorkerFixup) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("backend pids are PostgreSQL's")
    assert worker_fixup.db_reuse_max  # the setting reached the fixup: it no longer closes around each task
    first = run_task()
    assert [run_task() for _ in range(5)] == [first] * 5


def test_a_connection_past_its_age_or_broken_is_replaced(worker_fixup: DjangoWorkerFixup) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("backend pids are PostgreSQL's")
    first = run_task()
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE reached
    second = run_task()
    assert second != first
    # The server ends the session under the worker (a restart, a failover): the health check replaces it.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [second])
    finally:
        other.close()
    assert run_task() not in (first, second)
