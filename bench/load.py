"""API and page under load: gunicorn with 50,000 orders and 500 positions, next to a bare Django JSON view.

Usage: python bench/load.py [--duration 10] [--connections 8] [--workers 4]
Sets up its own database (tradedesk_bench_load), starts gunicorn with bench_settings (the app's URLs plus
/bench/bare) and loads three endpoints in turn against 127.0.0.1 with wrk (or a bounded Python thread pool
when wrk is not installed): the bare view, GET /api/trade/orders?limit=50 and the orders partial of
/live-trade (GET /live-trade/orders?project=..., as htmx polls it).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    Targets,
    create_database,
    django_setup,
    drop_database,
    free_port,
    percentile,
    service_env,
    start_process,
    stop_process,
    wait_port,
)

DB_NAME = "tradedesk_bench_load"
ORDERS = 50_000
PROJECTS = 10
SYMBOLS = [f"S{i:02d}" for i in range(50)]  # 10 projects x 50 symbols = 500 positions
# Issue 13's targets, each a ratio to a baseline measured in the same run.
API_VS_ORM_TARGET = 0.6  # GET /api/trade/orders?limit=50 vs the bare ORM view of the same rows
PARTIAL_VS_ORM_TARGET = 0.4  # the rendered orders partial vs the bare ORM view
IDLE_VS_BARE_TARGET = 0.7  # the idle poll (204) vs the bare JSON view


@dataclass
class Result:
    """One endpoint under load."""

    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def set_up(root: Path) -> tuple[str, str, int]:
    """The trader, projects, orders and positions; returns (API token, session cookie, a project id)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from execution.ingest.events import ingest_execution_events
    from orders.models import Position, Project, TradeOrder
    from orders.services import api_token_create

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    projects = [Project.objects.create(name=f"bench-{n}") for n in range(PROJECTS)]
    for project in projects:
        project.members.add(user)
    statuses = ["FILLED"] * 7 + ["CANCELED", "SUBMITTED", "PARTIALLY_FILLED"]
    columns = [
        "client_order_id", "project_id", "mode", "symbol", "side", "quantity", "order_type", "status",
        "filled_quantity", "filled_notional", "avg_fill_price", "fees", "status_message", "params",
        "dispatch_attempts", "flag", "flag_message", "review_note", "created_by_id", "created_at",
        "updated_at",
    ]  # fmt: skip
    table = TradeOrder._meta.db_table
    base = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for i in range(ORDERS):
            status = statuses[i % len(statuses)]
            filled = 10 if status == "FILLED" else 0
            copy.write_row(
                (f"oi_load_{i}", projects[i % PROJECTS].pk, "paper", SYMBOLS[(i // PROJECTS) % len(SYMBOLS)],
                 "BUY" if i % 3 else "SELL", 10, "MKT", status, filled, filled * 150, 150 if filled else None,
                 1 if filled else 0, "", '{"source": "manual"}', 1, "", "", "", user.pk,
                 base - timedelta(seconds=i), base - timedelta(seconds=i))
            )  # fmt: skip
    Position.objects.bulk_create(
        Position(
            project=project, mode="paper", symbol=symbol, quantity=10 + n, avg_cost=150, last_fill_price=151
        )
        for project in projects
        for n, symbol in enumerate(SYMBOLS)
    )
    with connection.cursor() as cursor:
        # A desk's tables are vacuumed by autovacuum; a freshly COPYed one is not yet (index-only counts).
        cursor.execute(f"VACUUM ANALYZE {table}")
    # An engine's events file, already ingested: every request pays the check a live desk pays.
    events = root / "engines" / "paper" / "events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text('{"type": "engine", "status": "started", "run_id": "r-load"}\n')
    ingest_execution_events()
    client = Client()
    client.force_login(user)
    return api_token_create(user=user, name="bench")[1], client.cookies["sessionid"].value, projects[0].pk


def run_wrk(url: str, headers: dict[str, str], duration: int, connections: int) -> Result:
    """Load one URL with wrk and parse its summary."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return float(match.group(1)) * scale

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in socket_errors.groups())
    return Result("", float(rps.group(1)) if rps else 0.0, latency("50%"), latency("99%"), count)


def run_python(url: str, headers: dict[str, str], duration: int, connections: int) -> Result:
    """Load one URL with `connections` threads for `duration` seconds (the fallback without wrk)."""
    host, port, path = re.match(r"http://([^:/]+):(\d+)(/.*)", url).groups()  # type: ignore[union-attr]
    deadline = time.monotonic() + duration

    def worker() -> tuple[list[float], int]:
        times: list[float] = []
        errors = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                errors += response.status >= 400
            except OSError:
                errors += 1
            finally:
                conn.close()
            times.append(time.perf_counter() - start)
        return times, errors

    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(lambda _: worker(), range(connections)))
    elapsed = time.monotonic() - started
    times = [t for ts, _ in results for t in ts]
    return Result(
        "",
        len(times) / elapsed,
        percentile(times, 50) * 1000,
        percentile(times, 99) * 1000,
        sum(e for _, e in results),
    )


def poll_versions(port: int, path: str, headers: dict[str, str]) -> str:
    """The `ov=...&pv=...` an open page sends with its poll: what it shows, so an idle poll gets 204."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    body = conn.getresponse().read().decode()
    conn.close()
    values = {name: re.search(rf'name="{name}" value="([^"]*)"', body) for name in ("ov", "pv")}
    if not all(values.values()):
        raise SystemExit(f"no ov/pv in the orders partial: {body[:300]}")
    query = "&".join(f"{name}={match.group(1)}" for name, match in values.items() if match)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"{path}&{query}", headers=headers)
    status = conn.getresponse().status
    conn.close()
    if status != 204:
        raise SystemExit(f"an idle poll answered {status}, not 204")
    return query


def main(argv: list[str] | None = None) -> int:
    """Run the load benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument(
        "--python-client", action="store_true", help="use the Python client even if wrk exists"
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ.update(
        {
            "TRADEDESK_VAR_DIR": str(tmp / "var"),
            "TRADEDESK_EXECUTION_ROOT": str(tmp / "execution"),
            "TRADEDESK_LOG_LEVEL": "WARNING",
        }
    )
    create_database(DB_NAME)
    django_setup()
    start = time.perf_counter()
    token, session, project_id = set_up(tmp / "execution")
    elapsed = time.perf_counter() - start
    print(f"set-up: {ORDERS:,} orders, {PROJECTS * len(SYMBOLS)} positions in {elapsed:.1f}s")
    from django.db import connections

    connections.close_all()
    bench_dir = str(Path(__file__).resolve().parent)
    env = service_env(DJANGO_SETTINGS_MODULE="bench_settings")
    env["PYTHONPATH"] = f"{bench_dir}{os.pathsep}{env['PYTHONPATH']}"
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    web = start_process(
        "web",
        [gunicorn, "tradedesk.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", str(args.workers)],
        env,
        tmp,
    )
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    load = run_wrk if use_wrk else run_python
    base = f"http://127.0.0.1:{port}"
    endpoints = [
        ("bare Django JSON view", f"{base}/bench/bare", {}),
        ("bare ORM view of the same 50 orders (no auth, no count)", f"{base}/bench/bare-orders", {}),
        (
            "GET /api/trade/orders?limit=50",
            f"{base}/api/trade/orders?limit=50",
            {"Authorization": f"Bearer {token}"},
        ),
    ]
    partial = f"{base}/live-trade/orders?project={project_id}"
    partial_headers = {"Cookie": f"sessionid={session}", "HX-Request": "true"}
    targets = Targets()
    completed = False
    try:
        wait_port(port)
        versions = poll_versions(port, partial.removeprefix(base), partial_headers)
        positions_only = "&".join(part for part in versions.split("&") if part.startswith("pv="))
        endpoints += [
            # What a poll gets after an order changed (the page's positions version still holds).
            ("orders partial of /live-trade (rendered)", f"{partial}&{positions_only}", partial_headers),
            # After a fill: the positions table (50 rows) is rendered too (reported, no target).
            ("orders partial with the positions table (rendered)", partial, partial_headers),
            ("orders partial, idle poll (204: nothing changed)", f"{partial}&{versions}", partial_headers),
        ]
        results = []
        for name, url, headers in endpoints:
            load(url, headers, 2, args.connections)  # warm-up: every worker imports, connects and caches
            result = load(url, headers, args.duration, args.connections)
            result.name = name
            results.append(result)
        print(
            f"load: {'wrk' if use_wrk else 'Python threads'}, {args.connections} connections, "
            f"{args.duration}s per endpoint, gunicorn {args.workers} sync workers, "
            f"{os.cpu_count()} CPUs (client and server share them)"
        )
        bare, orm, api, rendered, _full, idle = results
        for result in results:
            print(
                f"{result.name}: {result.requests_per_second:,.1f} req/s, p50 {result.p50_ms:,.1f} ms, "
                f"p99 {result.p99_ms:,.1f} ms, errors {result.errors}, "
                f"{result.requests_per_second / bare.requests_per_second:.0%} of bare, "
                f"{result.requests_per_second / orm.requests_per_second:.0%} of the bare ORM view",
                flush=True,
            )
            if result.errors:
                targets.missed.append(f"{result.name}: {result.errors} errors")
        for result, baseline, target in (
            (api, orm, API_VS_ORM_TARGET),
            (rendered, orm, PARTIAL_VS_ORM_TARGET),
            (idle, bare, IDLE_VS_BARE_TARGET),
        ):
            targets.check(
                f"{result.name} req/s vs {baseline.name}",
                result.requests_per_second / baseline.requests_per_second, ">=", target, "x",
            )  # fmt: skip
        completed = True
    finally:
        stop_process(web)
        if not args.keep_db:
            drop_database(DB_NAME)
        if completed and not targets.missed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs: {tmp}", flush=True)
    return targets.exit_code


if __name__ == "__main__":
    sys.exit(main())
