"""In-process test workers: their thread's database connection closed after each task."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.signals import task_postrun
from django import db


def _close_connection(**kwargs: Any) -> None:
    db.connection.close()


@contextmanager
def connections_closed_after_tasks() -> Iterator[None]:
    """A worker thread keeps its connection between tasks (CELERY_DB_REUSE_MAX) and a test worker's thread
    ends without closing it, which keeps the test database from being dropped: closed after each task."""
    task_postrun.connect(_close_connection, weak=False)
    try:
        yield
    finally:
        task_postrun.disconnect(_close_connection)
