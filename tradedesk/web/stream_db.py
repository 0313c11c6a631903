"""The push streams' database threads: every read of the streams and the hub on one thread and its one
connection, kept open (a thread per request would leave a connection behind per stream), and the pushed stage
times written on a thread and connection of their own (a write's commit, a WAL flush, would otherwise hold up
the next wake-up's reads)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import DatabaseError, connection

_DB = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-db")
_MARK = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-mark")


def _guarded(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except DatabaseError:
        connection.close()  # a restarted database: the next read connects again
        raise


async def in_db(function: Callable[..., Any], *args: Any) -> Any:
    """Run a database read on the streams' database thread."""
    return await asyncio.get_running_loop().run_in_executor(_DB, _guarded, function, *args)


def in_mark_thread(function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run a database write on the marking thread; the future of its result (the caller does not wait)."""
    return asyncio.get_running_loop().run_in_executor(_MARK, _guarded, function, *args)


def db_close() -> None:
    """Close the streams' database connections (a test's end, a process's shutdown)."""
    for pool in (_DB, _MARK):
        pool.submit(lambda: connection.close()).result(10)
