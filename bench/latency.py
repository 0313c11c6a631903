"""Click-to-engine latency: sequential manual orders through the API, web, a Celery worker and the simulator;
then the live path on screen (bench/screen.py): click -> FILLED in headless Chromium timed inside the page,
the idle cost of 50 raw push-stream clients, how far apart 50 streams see one fill, POSTs with them open.

Usage: python bench/latency.py [--orders 200] [--fill-delay 0.02] [--screen-orders 40] [--streams 50]
Sets up its own database (tradedesk_bench_latency) and execution root, starts gunicorn, the stream process
(uvicorn, tradedesk.asgi), a Celery worker (Redis broker from CELERY_BROKER_URL), beat and the ingest watcher,
and stops them (and the engine) at the end. --embedded runs what `make run` runs instead: SQLite under its
own var folder, the filesystem broker, no Redis, and one uvicorn process for pages, the API and the streams.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import (
    Targets,
    bench_database_name,
    create_database,
    django_setup,
    drop_database,
    figure,
    free_port,
    percentile,
    service_env,
    start_process,
    stop_process,
    wait_port,
)
from proxy import nginx_path, start_nginx

DB_NAME = bench_database_name("tradedesk_bench_latency")
POST_P99_MS = 50.0
COMMAND_P99_MS = 150.0
FILLED_P95_S = 1.5
POLL_SECONDS = 0.01
SCREEN_P95_MS = 150.0
EMBEDDED_SCREEN_P95_MS = 300.0
IDLE_CORE_SHARE = 0.05
SPREAD_MS = 100.0


class Api:
    """A keep-alive JSON client for 127.0.0.1 with a Bearer token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """One request; (status, decoded JSON)."""
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None


def set_up(workdir: Path) -> tuple[int, str]:
    """A trader, a paper project and an API token in the bench database; returns (project id, token)."""
    from django.contrib.auth import get_user_model

    from orders.models import Project
    from orders.services import api_token_create

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    project = Project.objects.create(name="bench-latency")
    project.members.add(user)
    return project.pk, api_token_create(user=user, name="bench")[1]


def purge_queue() -> None:
    """Empty the Celery queue of the bench broker (left-overs would run against the wrong database)."""
    from tradedesk.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("celery")


def filled_in_database(order_id: int) -> dict[str, Any] | None:
    """The order as stored, when FILLED (a read that does not ingest, unlike the API's)."""
    from orders.models import TradeOrder

    order = TradeOrder.objects.filter(pk=order_id, status="FILLED").values("status", "params").first()
    return dict(order) if order else None


def one_order(
    api: Api, project_id: int, index: int, root: Path, *, follow: str = "api"
) -> tuple[float, float, float, float]:
    """Place and follow one order: seconds to (POST answered, intent written, command handed over, FILLED)."""
    # follow="api" polls GET /api/trade/orders/{id} (which ingests new engine events first); follow="db" polls
    # the database directly, so only the background triggers (the worker's follow-up ingest, beat) count.
    client_order_id = f"lat-{index}"
    body = {
        "symbol": "AAPL",
        "side": "BUY" if index % 2 == 0 else "SELL",
        "quantity": 1,
        "order_type": "MKT",
        "project_id": project_id,
        "client_order_id": client_order_id,
    }
    start = time.time()
    status, data = api.call("POST", "/api/trade/orders", body)
    posted = time.time() - start
    if status != 201:
        raise SystemExit(f"POST answered {status}: {data}")
    order_id = data["id"]
    deadline = start + 30
    while True:
        if follow == "db":
            stored = filled_in_database(order_id)
            seen = time.time()
            if stored is not None:
                data = stored
                break
            status, data = 200, {"status": "?"}
        else:
            status, data = api.call("GET", f"/api/trade/orders/{order_id}")
            seen = time.time()
        if status == 200 and data["status"] == "FILLED":
            break
        if status == 200 and data["status"] in ("FAILED", "REJECTED", "CANCELED"):
            raise SystemExit(f"order {client_order_id} ended {data['status']}: {data['status_message']}")
        if seen > deadline:
            raise SystemExit(f"order {client_order_id} not FILLED after 30s: {data}")
        time.sleep(POLL_SECONDS)
    filled = seen - start
    intent = root / "engines" / "paper" / "intents" / f"{client_order_id}.json"
    intent_at = intent.stat().st_mtime_ns / 1e9 - start
    handed = data["params"].get("manual_execution", {}).get("handed_over_at")
    while not handed and time.time() < deadline:
        # The worker stamps the hand-over after the command file is written; a fill ingested within the same
        # milliseconds can be seen first (a nan in the percentiles before).
        time.sleep(POLL_SECONDS)
        stored = filled_in_database(order_id) or {}
        handed = stored.get("params", {}).get("manual_execution", {}).get("handed_over_at")
    if not handed:
        raise SystemExit(f"order {client_order_id} FILLED but never stamped handed over within 30 s")
    handed_at = datetime.fromisoformat(handed).timestamp() - start
    return posted, intent_at, handed_at, filled


def report(name: str, values: list[float], unit: str = "ms") -> dict[int, float]:
    """Print p50/p95/p99 (and max) of `values` (seconds) in `unit`."""
    scale = 1000.0 if unit == "ms" else 1.0
    marks = {p: percentile(values, p) * scale for p in (50, 95, 99)}
    print(
        f"{name}: p50 {marks[50]:,.1f} {unit}, p95 {marks[95]:,.1f} {unit}, p99 {marks[99]:,.1f} {unit}, "
        f"max {max(values) * scale:,.1f} {unit}",
        flush=True,
    )
    return marks


def broker_down_posts(count: int, project_id: int, token: str, env: dict[str, str], tmp: Path) -> None:
    """POST round trips of a web process whose broker (Redis) is down: a figure, no target.

    The shared Redis keeps running (other processes use it); this gunicorn's CELERY_BROKER_URL names a port
    nothing listens on, which is what a web process sees while Redis is down."""
    port = free_port()
    dead = {**env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/14"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    web = start_process(
        "web-broker-down",
        [gunicorn, "tradedesk.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"],
        dead,
        tmp,
    )
    try:
        wait_port(port)
        api = Api(port, token)
        times, statuses = [], []
        for index in range(count):
            body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT", "project_id": project_id,
                    "client_order_id": f"oi_down_{index}"}  # fmt: skip
            start = time.perf_counter()
            status, _ = api.call("POST", "/api/trade/orders", body)
            times.append(time.perf_counter() - start)
            statuses.append(status)
        report(f"POST response while the broker is down ({count} orders)", times)
        print(f"POST statuses while the broker is down: {sorted(set(statuses))}", flush=True)
    finally:
        stop_process(web)


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its direct children (gunicorn's master and workers)."""
    from screen import cpu_seconds

    total = cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            total += cpu_seconds(int(child))
        except OSError:
            continue
    return total


def stage_breakdown(name: str, clicks: list[Any]) -> None:
    """Print the median of each gap of the clicks (the order's stage times, then the page's event and fetch)."""
    import screen

    gaps: dict[str, list[float]] = {}
    for click in clicks:
        for label, ms in screen.click_gaps(click):
            gaps.setdefault(label, []).append(ms)
    parts = [f"{label} {percentile(values, 50):,.1f}" for label, values in gaps.items()]
    print(f"{name} where the time went, median ms: " + " | ".join(parts), flush=True)


def live_path(
    args: argparse.Namespace,
    targets: Targets,
    api: Api,
    project_id: int,
    root: Path,
    *,
    web: Any,
    stream: Any,
    ports: tuple[int, int],
    page_port: int,
    screen_p95_ms: float = SCREEN_P95_MS,
) -> None:
    """Issue 23's figures: click -> FILLED on screen (pushed, then polled), 50 streams' idle cost and spread.

    `web` is None on the embedded defaults: one uvicorn process serves pages, POSTs and streams (`make run`).
    The page comes from `page_port`: nginx in front of gunicorn and the stream process (production), or
    the stream process itself (its sync views on one thread, as `make run` serves them)."""
    import screen

    web_port, stream_port = ports
    wait_port(stream_port)
    wait_port(page_port)
    screen.seed_position(project_id)
    cookie = screen.session_cookie("bench")
    pushed = screen.click_to_filled(f"http://127.0.0.1:{page_port}", cookie, project_id, args.screen_orders)
    d = report(f"(d) click -> FILLED on screen, pushed ({len(pushed)} clicks, timed in the page)",
               [click.ms / 1000 for click in pushed])  # fmt: skip
    stage_breakdown("(d)", pushed)
    if web is not None:
        polled = screen.click_to_filled(
            f"http://127.0.0.1:{web_port}", cookie, project_id, max(5, args.screen_orders // 4)
        )
        report(f"(d') click -> FILLED on screen, polled (the stream off: WSGI page, {len(polled)} clicks)",
               [click.ms / 1000 for click in polled])  # fmt: skip
    targets.check("(d) click -> FILLED on screen p95", d[95], "<=", screen_p95_ms, "ms")

    streams = screen.open_streams(stream_port, cookie, project_id, args.streams)
    try:
        time.sleep(2)  # their first events sent
        web_cpu = (lambda: _tree_cpu(web.pid)) if web is not None else (lambda: 0.0)
        before_stream, before_web = screen.cpu_seconds(stream.pid), web_cpu()
        time.sleep(args.idle_seconds)
        stream_share = (screen.cpu_seconds(stream.pid) - before_stream) / args.idle_seconds
        web_share = (web_cpu() - before_web) / args.idle_seconds
        figure(f"idle {args.streams} streams: stream process CPU, % of one core", stream_share * 100, "%")
        figure(
            f"idle {args.streams} streams: gunicorn web processes CPU, % of one core", web_share * 100, "%"
        )
        targets.check(f"{args.streams} idle streams' CPU", (stream_share + web_share) * 100, "<",
                      IDLE_CORE_SHARE * 100, "% of a core")  # fmt: skip
        spreads = []
        for index in range(10):
            first, last = screen.spread_of_one_change(
                streams, lambda i=index: one_order(api, project_id, 20_000 + i, root, follow="db")
            )
            spreads.append(last - first)
        s = report(f"spread of one fill over {args.streams} streams (first to last, 10 fills)", spreads)
        targets.check("spread over the streams p95", s[95], "<=", SPREAD_MS, "ms")
        with_streams = [one_order(api, project_id, 30_000 + i, root, follow="db") for i in range(50)]
        report(
            f"(a) POST response with {args.streams} streams open (50 orders)", [r[0] for r in with_streams]
        )
        report(f"(b) POST to command file with {args.streams} streams open", [r[2] for r in with_streams])
    finally:
        for raw in streams:
            raw.close()


def main(argv: list[str] | None = None) -> int:
    """Run the latency benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5, help="orders placed first and not counted")
    parser.add_argument("--fill-delay", default="0.02", help="TRADEDESK_SIM_FILL_DELAY (seconds)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--background", type=int, default=30, help="orders followed without API reads")
    parser.add_argument(
        "--broker-down", type=int, default=20, help="POSTs timed against a web process whose broker is down"
    )
    parser.add_argument("--screen-orders", type=int, default=40, help="clicks timed on screen (0: none)")
    parser.add_argument("--streams", type=int, default=50, help="raw push-stream clients held open")
    parser.add_argument(
        "--idle-seconds", type=float, default=20.0, help="wall time the idle cost is measured"
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="the embedded defaults (make run): SQLite, the filesystem broker, no Redis, one uvicorn process",
    )
    parser.add_argument(
        "--no-proxy",
        action="store_true",
        help="serve the page from the stream process (make run's way) even when nginx is installed",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    settings_env = {
        "TRADEDESK_VAR_DIR": str(tmp / "var"),
        "TRADEDESK_EXECUTION_ROOT": str(tmp / "execution"),
        "TRADEDESK_ENGINE": "simulator",
        "TRADEDESK_SIM_FILL_DELAY": args.fill_delay,
        "TRADEDESK_SIM_IDLE_TIMEOUT": "120",
        "TRADEDESK_DUPLICATE_WINDOW_SECONDS": "0",
        "TRADEDESK_MAX_ORDERS_PER_MINUTE": "100000",
        "TRADEDESK_MAX_WORKING_ORDERS": "100000",
        "TRADEDESK_LOG_LEVEL": "WARNING",
        "TRADEDESK_SERVER_TIMING": "true",  # the page's fetches split into the view and the wait (screen.py)
    }
    if args.embedded:
        # What `make run` uses with no environment: SQLite under the var folder, the filesystem broker,
        # no shared cache and no push (each stream process watches the change token).
        for name in ("DATABASE_URL", "CACHE_URL", "TRADEDESK_PUSH_URL"):
            os.environ.pop(name, None)
        settings_env["CELERY_BROKER_URL"] = "filesystem://"
    nginx = None if args.embedded or args.no_proxy else nginx_path()
    if nginx:
        settings_env["TRADEDESK_STREAMS"] = "true"  # pages served by gunicorn connect to the stream process
    os.environ.update(settings_env)
    if not args.embedded:
        create_database(DB_NAME)
    django_setup()
    project_id, token = set_up(tmp)
    if not args.embedded:
        purge_queue()
    from django.db import connections

    connections.close_all()

    env = service_env()
    port = free_port()
    stream_port = free_port()
    python = sys.executable
    bin_dir = Path(python).parent
    # The worker as deploy/systemd/tradedesk-worker@.service and the Procfile run it: one process, threads.
    worker = [str(bin_dir / "celery"), "-A", "tradedesk", "worker", "-l", "warning", "--pool", "threads",
              "--concurrency", "4"]  # fmt: skip
    stream_command = [str(bin_dir / "uvicorn"), "tradedesk.asgi:application", "--host", "127.0.0.1",
                      "--port", str(stream_port), "--log-level", "warning", "--timeout-graceful-shutdown", "2"]  # fmt: skip
    services = [
        start_process("worker", worker, env, tmp),
        start_process("beat", [str(bin_dir / "celery"), "-A", "tradedesk", "beat", "-l", "warning",
                               "-s", str(tmp / "celerybeat-schedule")], env, tmp),
        start_process("ingest", [python, "manage.py", "ingest_watch"], env, tmp),
        start_process("stream", stream_command, env, tmp),
    ]  # fmt: skip
    stream_process = services[-1]
    web = None
    if args.embedded:
        port = stream_port  # make run: pages, the API and the streams from the one uvicorn process
    else:
        web = start_process(
            "web",
            [str(bin_dir / "gunicorn"), "tradedesk.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", str(args.web_workers), "--access-logfile", "-"],
            env,
            tmp,
        )  # fmt: skip
        services.insert(0, web)
    page_port = stream_port
    if nginx:
        page_port = free_port()
        services.append(
            start_nginx(nginx, port=page_port, web_port=port, stream_port=stream_port, tmp=tmp, env=env)
        )
    targets = Targets()
    completed = False
    try:
        wait_port(port)
        api = Api(port, token)
        root = tmp / "execution"
        for index in range(args.warmup):
            one_order(api, project_id, -1 - index, root)
        results = [one_order(api, project_id, index, root) for index in range(args.orders)]
        posted, intents, handed, filled = (list(column) for column in zip(*results, strict=True))
        print(
            f"orders: {args.orders} sequential (after {args.warmup} warm-up), engine: simulator, fill delay "
            f"{args.fill_delay}s, web: {'uvicorn (embedded defaults)' if args.embedded else f'gunicorn x{args.web_workers}'}, "
            "worker: threads x4; the page: "
            + ("nginx -> gunicorn (pages), uvicorn (stream)" if nginx else "from the uvicorn stream process")
        )
        a = report("(a) POST response", posted)
        report("(b') POST to intent file written", intents)
        b = report("(b) POST to command file handed to the engine", handed)
        c = report("(c) POST to FILLED visible in the API (GET ingests first)", filled)
        figure("orders FILLED", len(filled))
        background = [
            one_order(api, project_id, 10_000 + i, root, follow="db")[3] for i in range(args.background)
        ]
        if background:
            report(
                f"(c') POST to FILLED in the database, no API reads ({args.background} orders)", background
            )
        if args.broker_down and not args.embedded:
            broker_down_posts(args.broker_down, project_id, token, env, tmp)
        if args.screen_orders:
            live_path(args, targets, api, project_id, root, web=web, stream=stream_process,
                      ports=(port, stream_port), page_port=page_port,
                      screen_p95_ms=EMBEDDED_SCREEN_P95_MS if args.embedded else SCREEN_P95_MS)  # fmt: skip
        if not args.embedded:  # issue 5's targets are the production set-up's
            targets.check("(a) POST p99", a[99], "<=", POST_P99_MS, "ms")
            targets.check("(b) POST to command file p99", b[99], "<=", COMMAND_P99_MS, "ms")
            targets.check("(c) POST to FILLED p95", c[95] / 1000, "<=", FILLED_P95_S, "s")
        completed = True
    finally:
        for process in reversed(services):
            stop_process(process)
        from execution.engine.process import stop_engine

        stop_engine("paper")
        if not args.keep_db and not args.embedded:
            drop_database(DB_NAME)
        if completed and not targets.missed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs: {tmp}", flush=True)
    return targets.exit_code


if __name__ == "__main__":
    sys.exit(main())
