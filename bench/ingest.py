"""Ingest throughput: contract events with partial fills and duplicates, cold and replayed, against floors.

Usage: python bench/ingest.py [--events 100000] [--memory-events 1000000] [--skip-memory] [--profile FILE]
Sets up its own database on the server of DATABASE_URL and drops it at the end: tradedesk_bench_ingest, or
DATABASE_URL's own name when it starts with that (tradedesk_bench_ingest6: runs side by side never meet).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import ROOT, Targets, bench_database_name, create_database, django_setup, drop_database, figure

DB_NAME = bench_database_name("tradedesk_bench_ingest")
RUN_ID = "r-20260105T143000-bench"
SYMBOLS = [f"S{i:02d}" for i in range(50)]
PROJECTS = 10
ORDER_QUANTITY = 100
FILLED_PLAN = (20, 30, 10, 40)  # PartiallyFilled x3 then Filled: 5 events, 100 filled
CANCELED_PLAN = (20, 30)  # PartiallyFilled x2 then Canceled: 4 events, 50 filled
BASE_MS = 1_767_623_400_000  # 2026-01-05T14:30:00Z
ORDER_STAGGER_MS = 10
EVENT_STEP_MS = 50
DUPLICATE_DELAY_MS = 60_000

COLD_TARGET = 20_000.0
FLOOR_RATIO_TARGET = 4.0
REPLAY_TARGET = 50_000.0
RSS_TARGET_MB = 200.0


@dataclass(frozen=True)
class Plan:
    """How many orders, unique events and duplicate lines a run of `events` lines has."""

    events: int
    orders: int
    unique: int
    filled_orders: int

    @classmethod
    def for_events(cls, events: int) -> Plan:
        """5% duplicates, 4.75 unique events per order (75% filled in 5 events, 25% canceled in 4)."""
        orders = max(1, events // 5)
        unique = round(events * 0.95)
        return cls(events=events, orders=orders, unique=unique, filled_orders=unique - 4 * orders)


def tag_of(index: int) -> str:
    """The client_order_id (and LEAN tag) of bench order `index`."""
    return f"oi_b_{index}"


def order_shape(index: int) -> tuple[int, str, str]:
    """(project number, symbol, side) of bench order `index`."""
    return index % PROJECTS, SYMBOLS[(index // PROJECTS * 7) % len(SYMBOLS)], "BUY" if index % 3 else "SELL"


def iso_ms(millis: int) -> str:
    """Milliseconds since the epoch as the contract's time text."""
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def order_events(index: int, plan: Plan, rng: random.Random) -> list[tuple[int, dict[str, Any]]]:
    """(time ms, event) of one order: Submitted, partial fills, then Filled or Canceled."""
    _, symbol, _ = order_shape(index)
    start = BASE_MS + index * ORDER_STAGGER_MS
    fills = FILLED_PLAN if index < plan.filled_orders else CANCELED_PLAN
    statuses = ["Submitted"] + ["PartiallyFilled"] * (len(fills) - 1)
    statuses.append("Filled" if index < plan.filled_orders else "PartiallyFilled")
    quantities = [0, *fills]
    if index >= plan.filled_orders:
        statuses.append("Canceled")
        quantities.append(0)
    out = []
    for number, (status, quantity) in enumerate(zip(statuses, quantities, strict=True), start=1):
        at = start + (number - 1) * EVENT_STEP_MS
        price = round(100 + rng.random() * 100, 2) if quantity else 0
        event = {
            "tag": tag_of(index),
            "status": status,
            "order_id": index + 1,
            "event_id": number,
            "run_id": RUN_ID,
            "symbol": symbol,
            "time": iso_ms(at),
            "filled": quantity,
            "fill_price": price,
            "fee": 1.0 if quantity else 0,
            "fee_currency": "USD",
            "message": "",
        }
        out.append((at, event))
    return out


def expected_state(plan: Plan) -> dict[str, tuple[str, Decimal]]:
    """Every order's (status, filled quantity) once all its events are applied."""
    return {
        tag_of(i): ("FILLED", Decimal(100)) if i < plan.filled_orders else ("CANCELED", Decimal(50))
        for i in range(plan.orders)
    }


def event_lines(plan: Plan, seed: int = 7) -> Iterator[bytes]:
    """The events file, streamed in time order, with duplicates of earlier lines up to a minute later."""
    rng = random.Random(seed)
    duplicated = set(rng.sample(range(plan.unique), plan.events - plan.unique))
    heap: list[tuple[int, int, bytes]] = []
    seq = 0
    produced = 0
    for index in range(plan.orders + 1):
        horizon = BASE_MS + index * ORDER_STAGGER_MS
        while heap and (heap[0][0] < horizon or index == plan.orders):
            at, _, line = heapq.heappop(heap)
            yield line
        if index == plan.orders:
            break
        for at, event in order_events(index, plan, rng):
            line = json.dumps(event).encode() + b"\n"
            heapq.heappush(heap, (at, seq, line))
            seq += 1
            if produced in duplicated:
                heapq.heappush(heap, (at + rng.randrange(1, DUPLICATE_DELAY_MS), seq, line))
                seq += 1
            produced += 1


def write_file(path: Path, plan: Plan) -> int:
    """Write the events file; returns its line count."""
    count = 0
    with open(path, "wb") as handle:
        for line in event_lines(plan):
            handle.write(line)
            count += 1
    return count


# The second workload: one hot position, every line shuffled (replays, re-ingests, two engines' files).
HOT_SYMBOL = "HOT"
HOT_FILLS = 50  # one-share fills per order: PartiallyFilled x49 then Filled


def hot_orders(events: int) -> int:
    """Orders of a shuffled run of `events` lines (5% of them duplicates, 50 unique events per order)."""
    return max(1, round(events * 0.95) // HOT_FILLS)


def hot_tag(index: int) -> str:
    """The client_order_id (and LEAN tag) of hot-position order `index`."""
    return f"oi_h_{index}"


def hot_side(index: int) -> str:
    return "BUY" if index % 3 else "SELL"


def write_hot_file(path: Path, events: int, seed: int = 11) -> tuple[int, int]:
    """2,000 orders x 50 one-share fills of one symbol (per 100,000 lines), 5% duplicates, all shuffled."""
    rng = random.Random(seed)
    orders = hot_orders(events)
    lines: list[bytes] = []
    for index in range(orders):
        start = BASE_MS + index * ORDER_STAGGER_MS
        for number in range(1, HOT_FILLS + 1):
            event = {
                "tag": hot_tag(index),
                "status": "Filled" if number == HOT_FILLS else "PartiallyFilled",
                "order_id": index + 1,
                "event_id": number,
                "run_id": RUN_ID,
                "symbol": HOT_SYMBOL,
                "time": iso_ms(start + number * EVENT_STEP_MS),
                "filled": 1,
                "fill_price": round(100 + rng.random() * 100, 2),
                "fee": 0.01,
                "fee_currency": "USD",
                "message": "",
            }
            lines.append(json.dumps(event).encode() + b"\n")
    unique = len(lines)
    lines += rng.sample(lines, max(0, events - unique))
    rng.shuffle(lines)
    with open(path, "wb") as handle:
        handle.writelines(lines)
    return len(lines), unique


def create_hot_orders(orders: int) -> None:
    """One project and `orders` NEW orders of one symbol, quantity 50, written with COPY."""
    from django.db import connection

    from orders.models import Project, TradeOrder

    project = Project.objects.create(name="bench-0")
    columns = [
        "client_order_id", "project_id", "mode", "symbol", "side", "quantity", "order_type", "status",
        "filled_quantity", "filled_notional", "fees", "status_message", "params", "dispatch_attempts",
        "flag", "flag_message", "review_note", "created_at", "updated_at",
    ]  # fmt: skip
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {TradeOrder._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for index in range(orders):
            copy.write_row(
                (hot_tag(index), project.pk, "paper", HOT_SYMBOL, hot_side(index), HOT_FILLS, "MKT", "NEW",
                 0, 0, 0, "", '{"source": "bench"}', 0, "", "", "", "now", "now")
            )  # fmt: skip


def check_hot(orders: int, label: str) -> bool:
    """Every order FILLED with 50, the one position at the signed sum."""
    from orders.models import Position, TradeOrder

    wrong = [
        row
        for row in TradeOrder.objects.values_list("client_order_id", "status", "filled_quantity")
        if row[1:] != ("FILLED", Decimal(HOT_FILLS))
    ]
    expected = sum(HOT_FILLS if hot_side(i) == "BUY" else -HOT_FILLS for i in range(orders))
    actual = list(Position.objects.values_list("symbol", "quantity"))
    ok = not wrong and actual == [(HOT_SYMBOL, Decimal(expected))]
    print(
        f"check {label}: {orders - len(wrong):,}/{orders:,} orders and the hot position "
        f"({actual} vs {expected}) as expected" + ("" if ok else f" (first wrong: {wrong[:3]})"),
        flush=True,
    )
    return ok


def create_orders(plan: Plan) -> None:
    """The bench's projects and `plan.orders` NEW orders, written with COPY."""
    from django.db import connection

    from orders.models import Project, TradeOrder

    projects = [Project.objects.create(name=f"bench-{n}") for n in range(PROJECTS)]
    columns = [
        "client_order_id", "project_id", "mode", "symbol", "side", "quantity", "order_type", "status",
        "filled_quantity", "filled_notional", "fees", "status_message", "params", "dispatch_attempts",
        "flag", "flag_message", "review_note", "created_at", "updated_at",
    ]  # fmt: skip
    table = TradeOrder._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for index in range(plan.orders):
            project, symbol, side = order_shape(index)
            copy.write_row(
                (tag_of(index), projects[project].pk, "paper", symbol, side, ORDER_QUANTITY, "MKT", "NEW",
                 0, 0, 0, "", '{"source": "bench"}', 0, "", "", "", "now", "now")
            )  # fmt: skip


def truncate_orders() -> None:
    """Empty the order, event, fill, position and cursor tables (the cursor: a new file is read from 0)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE orders_executionevent, orders_tradefill, orders_position, orders_auditlog, "
            "orders_tradeorder, orders_project_members, orders_project, execution_eventfilecursor "
            "RESTART IDENTITY CASCADE"
        )


def check_orders(plan: Plan, label: str) -> bool:
    """Every order's status and filled quantity, and every position, as the plan says."""
    from orders.models import Position, TradeOrder

    expected = expected_state(plan)
    wrong = [
        (tag, status, filled)
        for tag, status, filled in TradeOrder.objects.values_list(
            "client_order_id", "status", "filled_quantity"
        )
        if expected.get(tag) != (status, filled)
    ]
    positions: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for index in range(plan.orders):
        project, symbol, side = order_shape(index)
        filled = expected[tag_of(index)][1]
        positions[(project, symbol)] += filled if side == "BUY" else -filled
    names = {f"bench-{n}": n for n in range(PROJECTS)}
    actual = {
        (names[name], symbol): quantity
        for name, symbol, quantity in Position.objects.values_list("project__name", "symbol", "quantity")
    }
    bad_positions = {key for key in positions if actual.get(key, Decimal(0)) != positions[key]}
    ok = not wrong and not bad_positions
    print(
        f"check {label}: {plan.orders - len(wrong):,}/{plan.orders:,} orders and "
        f"{len(positions) - len(bad_positions)}/{len(positions)} positions as expected"
        + ("" if ok else f" (first wrong: {wrong[:3]} {sorted(bad_positions)[:3]})"),
        flush=True,
    )
    return ok


def backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (None unless it runs on this host)."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_waits() -> tuple[float, float] | None:
    """Seconds this thread and this connection's backend have spent runnable but waiting for a core (/proc)."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        own = Path("/proc/thread-self/schedstat").read_text().split()
        backend = Path(f"/proc/{pid}/schedstat").read_text().split()
    except OSError:
        return None
    return int(own[1]) / 1e9, int(backend[1]) / 1e9


def timed_ingest(path: Path, label: str, profile: str | None = None) -> tuple[float, Any]:
    """Ingest new lines of `path` and print where the time went; returns (seconds, report)."""
    from execution.ingest.events import ingest_file

    server = backend_cpu()
    waits = run_queue_waits()
    cpu = time.process_time()
    start = time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        report = profiler.runcall(ingest_file, path)
        profiler.dump_stats(profile)
        print(f"profile written to {profile}", flush=True)
    else:
        report = ingest_file(path)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    after = backend_cpu()
    server_text = f"{after - server:.2f}s" if server is not None and after is not None else "n/a (remote)"
    print(
        f"{label}: {elapsed:.2f}s wall, {cpu:.2f}s Python CPU, {server_text} PostgreSQL backend CPU",
        flush=True,
    )
    waits_after = run_queue_waits()
    if waits is not None and waits_after is not None:
        # Other processes' load: time the ingest thread or its backend was ready to run but had no core.
        own, backend = waits_after[0] - waits[0], waits_after[1] - waits[1]
        print(
            f"{label}: run-queue waits {own:.2f}s (ingest thread) + {backend:.2f}s (backend); "
            f"wall less those {elapsed - own - backend:.2f}s",
            flush=True,
        )
    return elapsed, report


def floors(path: Path, size: int, lines: int) -> tuple[float, float]:
    """Events/s of COPY into a bare temp table, and of COPY to staging + INSERT ON CONFLICT (logged table)."""
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    with open(path, "rb") as handle:
        data = handle.read(size).replace(b"\\", b"\\\\")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE floor_bare (line text)")
        conn.execute("DROP TABLE IF EXISTS floor_events")
        conn.execute(
            "CREATE TABLE floor_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "event_key text NOT NULL UNIQUE, payload jsonb NOT NULL)"
        )
        conn.execute("CREATE TEMP TABLE floor_staging (line text)")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy("COPY floor_bare (line) FROM STDIN") as copy:
            copy.write(data)
        conn.commit()
        bare = time.perf_counter() - start
        start = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy("COPY floor_staging (line) FROM STDIN") as copy:
                copy.write(data)
            cursor.execute(
                "INSERT INTO floor_events (event_key, payload) "
                "SELECT encode(sha256(convert_to("
                "concat_ws(',', j->>'run_id', j->>'order_id', j->>'event_id'), 'UTF8')), 'hex'), j "
                "FROM (SELECT line::jsonb AS j FROM floor_staging) AS s "
                "ON CONFLICT (event_key) DO NOTHING"
            )
        conn.commit()
        staged = time.perf_counter() - start
        stored = conn.execute("SELECT count(*) FROM floor_events").fetchone()
        conn.execute("DROP TABLE floor_events")
        conn.commit()
    print(f"floor rows stored (unique events): {stored[0] if stored else 0:,}", flush=True)
    return lines / bare, lines / staged


def memory_child(path: str) -> int:
    """Only ingest `path` (the parent measures); print lines, seconds and peak RSS as JSON."""
    django_setup(migrate=False)
    from execution.ingest.events import ingest_file

    start = time.perf_counter()
    report = ingest_file(Path(path))
    elapsed = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"lines": report.lines_read, "applied": report.applied, "seconds": elapsed, "rss_kb": rss_kb}
        )
    )
    return 0


def memory_run(workdir: Path, events: int, targets: Targets) -> None:
    """Ingest an `events`-line file in a subprocess that does nothing else and report its peak RSS."""
    truncate_orders()
    plan = Plan.for_events(events)
    path = workdir / "memory" / "events.jsonl"
    path.parent.mkdir()
    start = time.perf_counter()
    create_orders(plan)
    write_file(path, plan)
    print(
        f"memory run set-up: {plan.orders:,} orders, {events:,} lines in {time.perf_counter() - start:.1f}s"
    )
    from django.db import connections

    connections.close_all()
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory-child", str(path)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(result.stdout, result.stderr, file=sys.stderr)
        targets.missed.append("memory run failed")
        return
    data = json.loads(result.stdout.strip().splitlines()[-1])
    figure(f"memory run ({events:,} lines) events/s", data["lines"] / data["seconds"])
    figure("memory run peak RSS", data["rss_kb"] / 1024, "MB")
    if not check_orders(plan, "after memory run"):
        targets.missed.append("memory run state")
    targets.check(f"peak RSS ingesting {events:,} events", data["rss_kb"] / 1024, "<=", RSS_TARGET_MB, "MB")


def run_workload(
    name: str,
    path: Path,
    lines: int,
    unique: int,
    orders: int,
    check: Any,
    targets: Targets,
    profile: str | None,
) -> None:
    """Cold ingest, replay and the floors of one workload's file, with its targets."""
    size = path.stat().st_size
    print(
        f"[{name}] file: {lines:,} lines ({unique:,} unique, {lines - unique:,} duplicates), "
        f"{size / 1e6:.1f} MB; {orders:,} orders",
        flush=True,
    )
    elapsed, report = timed_ingest(path, f"[{name}] cold ingest", f"{profile}.{name}" if profile else None)
    cold = lines / elapsed
    figure(f"[{name}] cold ingest seconds", elapsed)
    figure(f"[{name}] cold ingest events/s", cold)
    print(f"[{name}] cold report: {report.as_dict()}", flush=True)
    if not check(f"[{name}] after cold ingest"):
        targets.missed.append(f"{name} cold ingest state")

    with open(path, "ab") as handle, open(path, "rb") as source:
        handle.write(source.read(size))
    elapsed, report = timed_ingest(path, f"[{name}] replay ingest")
    replay = lines / elapsed
    figure(f"[{name}] replay ingest seconds", elapsed)
    figure(f"[{name}] replay ingest events/s", replay)
    print(f"[{name}] replay report: {report.as_dict()}", flush=True)
    if not check(f"[{name}] after replay"):
        targets.missed.append(f"{name} replay state")

    bare_rate, staged_rate = floors(path, size, lines)
    figure(f"[{name}] floor 1 COPY into a bare temp table events/s", bare_rate)
    figure(f"[{name}] floor 2 COPY + INSERT ON CONFLICT (jsonb, unique key) events/s", staged_rate)
    figure(f"[{name}] cold ingest / floor 2 slowdown", staged_rate / cold, "x")

    targets.check(f"[{name}] cold ingest events/s", cold, ">=", COLD_TARGET)
    targets.check(
        f"[{name}] cold ingest slowdown vs floor 2", staged_rate / cold, "<=", FLOOR_RATIO_TARGET, "x"
    )
    targets.check(f"[{name}] replay ingest events/s", replay, ">=", REPLAY_TARGET)


def main(argv: list[str] | None = None) -> int:
    """Run the ingest benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="lines in the throughput file")
    parser.add_argument("--memory-events", type=int, default=1_000_000, help="lines in the memory file")
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory run")
    parser.add_argument("--profile", help="write a cProfile of each cold ingest to FILE.<workload>")
    parser.add_argument(
        "--workload", choices=("ordered", "shuffled", "both"), default="both", help="which events file(s)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child)

    create_database(DB_NAME)
    django_setup()
    targets = Targets()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            workdir = Path(tmp)
            workloads = [w for w in ("ordered", "shuffled") if args.workload in (w, "both")]
            for workload in workloads:
                truncate_orders()
                path = workdir / f"{workload}.jsonl"
                if workload == "ordered":
                    plan = Plan.for_events(args.events)
                    create_orders(plan)
                    lines, unique = write_file(path, plan), plan.unique
                    orders = plan.orders

                    def check(label: str, plan: Plan = plan) -> bool:
                        return check_orders(plan, label)
                else:
                    orders = hot_orders(args.events)
                    create_hot_orders(orders)
                    lines, unique = write_hot_file(path, args.events)

                    def check(label: str, orders: int = orders) -> bool:
                        return check_hot(orders, label)

                run_workload(workload, path, lines, unique, orders, check, targets, args.profile)
            if not args.skip_memory:
                memory_run(workdir, args.memory_events, targets)
    finally:
        if not args.keep_db:
            drop_database(DB_NAME)
    return targets.exit_code


if __name__ == "__main__":
    sys.exit(main())
