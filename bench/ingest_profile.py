"""Where a cold ingest's database time goes: wall and PostgreSQL backend CPU per statement kind.

Usage: python bench/ingest_profile.py [--events 100000] [--workload ordered|shuffled|both]
Builds bench/ingest.py's files and orders in its own database (the ingest bench's name + "_profile", dropped
at the end), ingests each file once from offset 0 and prints one line per statement kind (SQL text with its
literals and staging-table names folded), summed over the file: count, wall seconds, backend CPU seconds.
The backend's CPU is read from /proc before and after each statement, so the database must run on this host.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import bench_database_name, create_database, django_setup, drop_database
from ingest import (
    Plan,
    backend_cpu,
    create_hot_orders,
    create_orders,
    hot_orders,
    truncate_orders,
    write_file,
    write_hot_file,
)

DB_NAME = bench_database_name("tradedesk_bench_ingest") + "_profile"
_FOLD = [
    (re.compile(r"td_stage_[0-9a-f]+"), "td_stage_*"),
    (re.compile(r'SAVEPOINT "[^"]+"'), "SAVEPOINT *"),
    (re.compile(r"(%s, )+%s"), "%s..."),
    (re.compile(r"\((%s\.\.\.|%s)\)(, \((%s\.\.\.|%s)\))+"), "(...)..."),
    (re.compile(r"\s+"), " "),
]


def statement_kind(sql: str) -> str:
    """The statement's text with its parameter lists and staging names folded, capped."""
    for pattern, replacement in _FOLD:
        sql = pattern.sub(replacement, sql)
    return sql.strip()[:150]


class Profile:
    """Per statement kind: count, wall seconds, backend CPU seconds."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])

    @contextmanager
    def measure(self, kind: str) -> Iterator[None]:
        cpu, start = backend_cpu() or 0.0, time.perf_counter()
        try:
            yield
        finally:
            row = self.rows[kind]
            row[0] += 1
            row[1] += time.perf_counter() - start
            row[2] += (backend_cpu() or 0.0) - cpu

    def wrapper(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        with self.measure(statement_kind(str(sql))):
            return execute(sql, params, many, context)

    def print(self, title: str, wall: float, server: float) -> None:
        total_wall = sum(row[1] for row in self.rows.values())
        total_cpu = sum(row[2] for row in self.rows.values())
        print(f"== {title}: {wall:.2f}s wall, {server:.2f}s backend CPU in all; per statement kind:")
        print(f"{'count':>6} {'wall s':>7} {'cpu s':>6}  statement")
        for kind, (count, seconds, cpu) in sorted(self.rows.items(), key=lambda item: -item[1][2]):
            print(f"{int(count):>6} {seconds:>7.2f} {cpu:>6.2f}  {kind}")
        print(f"{'':>6} {total_wall:>7.2f} {total_cpu:>6.2f}  (sum of the statements above)", flush=True)


@contextmanager
def profiled(profile: Profile) -> Iterator[None]:
    """Time every statement of Django's connection, its COPYs and its commits."""
    import psycopg
    from django.db import connection

    original_copy = psycopg.Cursor.copy
    original_commit = connection._commit  # type: ignore[attr-defined]

    @contextmanager
    def copy(cursor: Any, statement: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        kind = statement_kind(str(statement)) + " [rows written from Python]"
        with profile.measure(kind), original_copy(cursor, statement, *args, **kwargs) as inner:
            yield inner

    def commit() -> Any:
        with profile.measure("COMMIT"):
            return original_commit()

    psycopg.Cursor.copy = copy  # type: ignore[method-assign,assignment]
    connection._commit = commit  # type: ignore[attr-defined]
    try:
        with connection.execute_wrapper(profile.wrapper):
            yield
    finally:
        psycopg.Cursor.copy = original_copy  # type: ignore[method-assign]
        del connection._commit  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    """Profile one cold ingest per workload."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workload", choices=("ordered", "shuffled", "both"), default="both")
    parser.add_argument(
        "--transaction-seconds",
        type=float,
        default=60.0,
        help="the ingest's time budget per transaction (large by default: the same steps on a loaded machine)",
    )
    args = parser.parse_args(argv)
    create_database(DB_NAME)
    django_setup()
    from django.conf import settings

    settings.TRADEDESK_INGEST_TRANSACTION_SECONDS = args.transaction_seconds
    from execution.ingest.events import ingest_file

    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-profile-") as tmp:
            for workload in [w for w in ("ordered", "shuffled") if args.workload in (w, "both")]:
                truncate_orders()
                path = Path(tmp) / f"{workload}.jsonl"
                if workload == "ordered":
                    plan = Plan.for_events(args.events)
                    create_orders(plan)
                    write_file(path, plan)
                else:
                    create_hot_orders(hot_orders(args.events))
                    write_hot_file(path, args.events)
                profile = Profile()
                server, start = backend_cpu() or 0.0, time.perf_counter()
                with profiled(profile):
                    ingest_file(path)
                wall, server = time.perf_counter() - start, (backend_cpu() or 0.0) - server
                profile.print(f"[{workload}] cold ingest", wall, server)
    finally:
        drop_database(DB_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
