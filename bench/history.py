"""History at scale (issue 22): the same requests against a project of 10,000 and then 1,000,000 orders.

Usage: python bench/history.py [--sizes 10000,1000000] [--repeats 20] [--events 10000000] [--explain] [--keep-db]
Sets up its own database on the server of DATABASE_URL (tradedesk_bench_history, or DATABASE_URL's own name
when it starts with that) and drops it at the end. One project (the desk's, paper) gets its orders with their
fills, engine events and audit rows by SQL (generate_series); two more projects hold a few orders each, as a
desk has a handful. The history grows backwards in time: the newest orders (and the 20 working ones) are the
same at every size, each older order 30 s before the next, so a million orders is about a year of a busy desk.
Big tables are vacuumed and analyzed as autovacuum would after the load; the desk's small tables (projects,
memberships) are left as autovacuum leaves them (it never analyzes a table of a few rows) unless the code has
the statistics maintenance (orders.services.maintenance), which the bench then runs as beat would.

Every request goes through Django's test client (every middleware, no sockets): the median of `--repeats`
wall milliseconds after 3 warm-up requests. The fills CSV export is timed once per size, as MB/s. Ingest:
5,000 engine events (1,000 new orders x Submitted, three partial fills, Filled) appended to the paper events
file and ingested, as events/s (the median of five such ingests, new orders each time); with `--events N`,
once more after the events table was filled to N rows (by SQL, about 40 s per million rows). At the end: every
figure at each size and the ratio of the largest size's figure to the smallest's (target: within 1.5x; the
export's MB/s the other way round). The machine's load average is printed at each stage (a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import Targets, bench_database_name, create_database, django_setup, drop_database
from history_build import BASE, RUN_ID, grow, grow_events, set_up

DB_NAME = bench_database_name("tradedesk_bench_history")
RATIO_TARGET = 1.5
INGEST_ORDERS = 1000
INGEST_REPEATS = 5  # the ingest is measured this many times (new orders each time): the median is reported


def archive_and_ingest(ctx: dict[str, Any], first: dict[str, float], *, size: int, targets: Targets) -> None:
    """Archive every whole month but the last 3 before the newest order (what `manage.py history_archive`
    does monthly), print its rate, then measure the ingest again against the smallest size's figures."""
    from datetime import datetime

    from django.db import connection

    from orders.services.archive import history_archive, month_start

    before = month_start(keep_months=3, now=datetime.fromisoformat(BASE))
    print(f"archiving before {before:%Y-%m} (load average {os.getloadavg()[0]:.1f})", flush=True)
    started = time.monotonic()
    report = history_archive(before=before)
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_executionevent")
        left = cursor.fetchone()[0]
        cursor.execute("VACUUM (ANALYZE) orders_executionevent")
    print(f"  archived {report.events:,} events and {report.audit:,} audit entries in {seconds:.0f} s "
          f"({report.events / max(seconds, 1e-6):,.0f} events/s, {report.chunks:,} chunks); {left:,} events "
          f"left (load average {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    rate, per_cpu = ingest_events_per_s(ctx, size)
    wall_ratio = first["ingest of 5,000 events (events/s)"] / rate
    cpu_ratio = first["ingest of 5,000 events (events/s of CPU)"] / per_cpu
    print(f"ingest of 5,000 events after the archive: {rate:,.0f} events/s ({wall_ratio:.2f}x), "
          f"{per_cpu:,.0f} events/CPU s ({cpu_ratio:.2f}x)")  # fmt: skip
    # What the archive leaves behind, one at a time: the WAL of its moves (a checkpoint), then the size of the
    # events table's key index (VACUUM frees entries, not pages; REINDEX CONCURRENTLY rebuilds it live).
    for step, sql in (("a checkpoint", "CHECKPOINT"),
                      ("REINDEX of event_key_unique", "REINDEX INDEX CONCURRENTLY event_key_unique")):  # fmt: skip
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(sql)
        print(f"  {step}: {time.monotonic() - started:.0f} s", flush=True)
        rate, per_cpu = ingest_events_per_s(ctx, size + len(step))
        wall_ratio = first["ingest of 5,000 events (events/s)"] / rate
        cpu_ratio = first["ingest of 5,000 events (events/s of CPU)"] / per_cpu
        print(f"ingest of 5,000 events after {step}: {rate:,.0f} events/s ({wall_ratio:.2f}x), "
              f"{per_cpu:,.0f} events/CPU s ({cpu_ratio:.2f}x)")  # fmt: skip
    targets.check("ingest CPU after the archive vs the smallest size", cpu_ratio, "<=", 1.5, "x")


def statistics_maintenance() -> str:
    """Run the code's statistics maintenance as beat would, when the code has it."""
    try:
        from orders.services import maintenance  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return "not in this code"
    analyzed = maintenance.small_tables_analyze()
    return f"ran ({len(analyzed)} tables)"


def _expect(status: int, client: Any, path: str, **headers: Any) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(path, **headers)
        if response.status_code != status:
            raise SystemExit(f"{path}: {response.status_code}, not {status}: {response.content[:300]!r}")
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    return call


def requests(ctx: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """One request function per row of the issue's table."""
    import re

    from django.test import Client

    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {ctx['token']}")
    browser = Client()
    browser.force_login(ctx["trader"], backend="tradedesk.auth_backends.CachedModelBackend")
    admin = Client()
    admin.force_login(ctx["staff"], backend="tradedesk.auth_backends.CachedModelBackend")
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import ProjectVersion

    project = ctx["project"].pk
    # Past the seconds in which a just-changed order is highlighted (the versions follow the clock then).
    ProjectVersion.objects.filter(project_id=project).update(changed_at=timezone.now() - timedelta(minutes=1))
    partial = f"/live-trade/orders?project={project}"
    body = browser.get(partial, HTTP_HX_REQUEST="true").content.decode()
    found = {name: re.search(rf'name="{name}" value="([^"]*)"', body) for name in ("ov", "pv")}
    if not all(found.values()):
        raise SystemExit(f"no ov/pv in the orders partial: {body[:300]}")
    versions = "&".join(f"{name}={match.group(1)}" for name, match in found.items() if match)
    positions_only = versions.split("&")[1]
    return {
        "page poll after a change": _expect(
            200, browser, f"{partial}&{positions_only}", HTTP_HX_REQUEST="true"
        ),
        "/live-trade full page": _expect(200, browser, f"/live-trade?project={project}"),
        "API list filtered by symbol": _expect(200, bearer, "/api/trade/orders?symbol=S07&limit=50"),
        "API list filtered by a rare symbol": _expect(200, bearer, "/api/trade/orders?symbol=RARE&limit=50"),
        "API list filtered by status": _expect(200, bearer, "/api/trade/orders?status=CANCELED&limit=50"),
        "API list at offset=9000": _expect(200, bearer, "/api/trade/orders?offset=9000&limit=50"),
        "admin orders changelist": _expect(200, admin, "/admin/orders/tradeorder/"),
        "admin search by symbol": _expect(200, admin, "/admin/orders/tradeorder/?q=S07"),
        "API list (default)": _expect(200, bearer, "/api/trade/orders?limit=50"),
        "idle poll (204)": _expect(204, browser, f"{partial}&{versions}", HTTP_HX_REQUEST="true"),
        "positions (API)": _expect(200, bearer, f"/api/trade/positions?project_id={project}"),
    }


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    """Median wall milliseconds of `repeats` calls after 3 warm-up calls."""
    for _ in range(3):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def export_mb_per_s(ctx: dict[str, Any]) -> tuple[float, float]:
    """(MB/s, MB) of the project's whole fills CSV export, streamed through the test client."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {ctx['token']}")
    started = time.perf_counter()
    response = client.get(f"/api/trade/fills?project_id={ctx['project'].pk}&format=csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    seconds = time.perf_counter() - started
    return size / 1e6 / seconds, size / 1e6


def ingest_events_per_s(ctx: dict[str, Any], size: int) -> tuple[float, float]:
    """Median events/s of INGEST_REPEATS ingests of 5,000 new engine events each (one run's figure moves with
    the machine's load more than with the table), and the median events per CPU second (the ingest process's
    and its PostgreSQL backend's, from /proc: what the work costs, whatever else the machine runs)."""
    rounds = [ingest_once(ctx, size, repeat) for repeat in range(INGEST_REPEATS)]
    print("  ingest rounds: " + ", ".join(f"{wall:,.0f} ({cpu:,.0f} per CPU s)" for wall, cpu in rounds)
          + " events/s", flush=True)  # fmt: skip
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def ingest_once(ctx: dict[str, Any], size: int, repeat: int) -> tuple[float, float]:
    """Events/s of ingesting 5,000 new engine events (1,000 new orders, five events each)."""
    from django.db import connection

    from execution.ingest import ingest_execution_events

    tag = f"oi_new_{size}_{repeat}"
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_tradeorder (client_order_id, project_id, mode, symbol, side, quantity,
                order_type, status, filled_quantity, filled_notional, fees, status_message, params,
                dispatch_attempts, flag, flag_message, review_note, created_at, updated_at, overfilled,
                future_event_time, update_pending, dispatched_at)
            SELECT %s || '_' || k, %s, 'paper', 'S' || lpad((k %% 50)::text, 2, '0'), 'BUY', 100, 'MKT', 'NEW',
                   0, 0, 0, '', '{"source": "manual"}', 1, '', '', '', now(), now(), false, false, false, now()
            FROM generate_series(1, %s) AS k
            """,
            [tag, ctx["project"].pk, INGEST_ORDERS],
        )
    lines = []
    for k in range(1, INGEST_ORDERS + 1):
        for number, (status, filled) in enumerate(
            (("Submitted", 0), ("PartiallyFilled", 20), ("PartiallyFilled", 30), ("PartiallyFilled", 10),
             ("Filled", 40)),
            start=1,
        ):  # fmt: skip
            lines.append(
                json.dumps(
                    {
                        "tag": f"{tag}_{k}",
                        "status": status,
                        "order_id": (size * 10 + repeat) * INGEST_ORDERS + k,
                        "event_id": number,
                        "run_id": RUN_ID,
                        "symbol": f"S{k % 50:02d}",
                        "time": "2026-12-01T16:00:00.000Z",
                        "filled": filled,
                        "fill_price": 150.25 if filled else 0,
                        "fee": 1.0 if filled else 0,
                        "fee_currency": "USD",
                        "message": "",
                    }
                )
            )
    with open(ctx["events"], "a") as handle:
        handle.write("\n".join(lines) + "\n")
    from ingest import backend_cpu

    server, cpu = backend_cpu() or 0.0, time.process_time()
    started = time.perf_counter()
    report = ingest_execution_events(force=True)
    seconds = time.perf_counter() - started
    used = time.process_time() - cpu + (backend_cpu() or 0.0) - server
    applied = report.as_dict().get("applied", 0)
    if applied != len(lines):
        raise SystemExit(f"ingest applied {applied} of {len(lines)} events: {report.as_dict()}")
    return len(lines) / seconds, len(lines) / max(used, 1e-6)


def explain(ctx: dict[str, Any]) -> None:
    """EXPLAIN ANALYZE of the page's orders query and the API list, printed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, call in requests(ctx).items():
        with CaptureQueriesContext(connection) as captured:
            call()
        slowest = max(captured.captured_queries, key=lambda query: float(query["time"]))
        print(f"--- {name}: slowest of {len(captured)} queries ({float(slowest['time']) * 1000:.1f} ms)")
        print(slowest["sql"][:600])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))


def main(argv: list[str] | None = None) -> int:
    """Build each size, measure every request, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated order counts, ascending")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each request's slowest query")
    parser.add_argument(
        "--events",
        type=int,
        default=0,
        help="then store this many events in all and measure the ingest again",
    )
    parser.add_argument(
        "--archive",
        action="store_true",
        help="at the end, archive all but the last 3 whole months (manage.py history_archive) and measure again",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]

    bench_dir = str(Path(__file__).resolve().parent)
    sys.path.insert(0, bench_dir)
    tmp = Path(tempfile.mkdtemp(prefix="bench-history-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "TRADEDESK_VAR_DIR": str(tmp / "var"),
            "TRADEDESK_EXECUTION_ROOT": str(tmp / "execution"),
            "TRADEDESK_LOG_LEVEL": "WARNING",
            "TRADEDESK_ENGINE_AUTOSTART": "false",
        }
    )
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    create_database(DB_NAME)
    results: dict[int, dict[str, float]] = {}
    targets = Targets()
    try:
        django_setup()
        ctx = set_up(tmp / "execution")
        have = 0
        for size in sizes:
            print(f"building {size:,} orders (load average {os.getloadavg()[0]:.1f})", flush=True)
            grow(project_id=ctx["project"].pk, user_id=ctx["trader"].pk, have=have, size=size,
                 newest_id=max(sizes))  # fmt: skip
            have = size
            print(f"  statistics maintenance: {statistics_maintenance()}", flush=True)
            figures = {name: median_ms(call, args.repeats) for name, call in requests(ctx).items()}
            for name, value in figures.items():
                print(f"  {name}: {value:.1f} ms", flush=True)
            mb_s, mb = export_mb_per_s(ctx)
            figures["fills CSV export (MB/s)"] = mb_s
            print(f"  fills CSV export: {mb:.1f} MB at {mb_s:.1f} MB/s", flush=True)
            wall, per_cpu = ingest_events_per_s(ctx, size)
            figures["ingest of 5,000 events (events/s)"] = wall
            figures["ingest of 5,000 events (events/s of CPU)"] = per_cpu
            print(f"  ingest of 5,000 events: {figures['ingest of 5,000 events (events/s)']:,.0f} events/s")
            results[size] = figures
            if args.explain:
                explain(ctx)
        small, large = sizes[0], sizes[-1]
        print(f"\n| request | {small:,} orders | {large:,} orders | growth |\n|---|---|---|---|")
        for name in results[small]:
            before, after = results[small][name], results[large][name]
            rate = "/s" in name
            growth = before / after if rate else after / before  # how many times worse
            unit = "" if rate else " ms"
            print(f"| {name} | {before:,.1f}{unit} | {after:,.1f}{unit} | {growth:.2f}x |")
        for name in results[small]:
            before, after = results[small][name], results[large][name]
            growth = before / after if "/s" in name else after / before
            targets.check(f"{name} at {large:,} vs {small:,} orders", growth, "<=", RATIO_TARGET, "x")
        if args.events:
            print(f"storing {args.events:,} events (load average {os.getloadavg()[0]:.1f})", flush=True)
            stored = grow_events(project_id=ctx["project"].pk, total=args.events)
            print(f"  load average {os.getloadavg()[0]:.1f}", flush=True)
            rate, per_cpu = ingest_events_per_s(ctx, args.events)
            first = results[small]["ingest of 5,000 events (events/s)"]
            first_cpu = results[small]["ingest of 5,000 events (events/s of CPU)"]
            print(f"ingest of 5,000 events with {stored:,} events stored: {rate:,.0f} events/s "
                  f"({first / rate:.2f}x slower than at {small:,} orders), {per_cpu:,.0f} events/CPU s "
                  f"({first_cpu / per_cpu:.2f}x)")  # fmt: skip
            targets.check(
                f"ingest with {stored:,} events stored vs {small:,} orders", first / rate, "<=", 1.5, "x"
            )
            targets.check(
                f"ingest CPU with {stored:,} events stored vs {small:,} orders", first_cpu / per_cpu, "<=", 1.5,
                "x",
            )  # fmt: skip
        if args.archive:
            archive_and_ingest(ctx, results[small], size=max(sizes) + args.events + 1, targets=targets)
    finally:
        if not args.keep_db:
            drop_database(DB_NAME)
        shutil.rmtree(tmp, ignore_errors=True)
    return targets.exit_code


if __name__ == "__main__":
    sys.exit(main())
