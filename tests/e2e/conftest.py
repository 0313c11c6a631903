"""Browser tests: headless Debian Chromium, pytest-django's live server, an in-process Celery worker on Redis,
and the simulator engine that the worker's execution task starts."""

from __future__ import annotations

import os

# The sync Playwright API runs an event loop in the test thread; Django's ORM is used beside it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import asyncio
import gc
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from playwright.sync_api import Page, expect

from execution.actions import ingest_watch
from orders.models import Position, Project
from orders.services import order_seed_filled
from tests.celery_worker import connections_closed_after_tasks
from tests.waiting import wait_for
from tradedesk.asgi import application
from tradedesk.celery import app as celery_app
from tradedesk.web import stream_db

# Waits, not timing assertions: a shared 2-core CI machine under load can take seconds to fill an order.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, headless (playwright install cannot download here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (make test does)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop screen, English."""
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "locale": "en-US"}


def _route_all_tasks_to(queue: str) -> dict[str, Any]:
    """Send every task to `queue`, so no other worker on the same Redis takes this session's tasks."""
    conf = celery_app.conf
    previous = {
        key: conf.get(key)
        for key in ("task_default_queue", "task_default_exchange", "task_default_routing_key")
    }
    conf.task_default_queue = conf.task_default_exchange = conf.task_default_routing_key = queue
    _forget_routing()
    return previous


def _forget_routing() -> None:
    for cached in ("queues", "default_queue", "router", "default_exchange"):
        celery_app.amqp.__dict__.pop(cached, None)
    celery_app.amqp._rtable = None


@pytest.fixture(scope="package")
def celery_worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """A real Celery worker in this process (so it uses the test database), consuming a private queue.

    Package-scoped: the routing is restored once the browser tests are done, before other tests publish."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.fail(f"the Celery broker {django_settings.CELERY_BROKER_URL} is not reachable: {exc}")
    queue = f"tradedesk-e2e-{uuid.uuid4().hex[:8]}"
    previous = _route_all_tasks_to(queue)
    try:
        with (
            connections_closed_after_tasks(),
            start_worker(
                celery_app,
                pool="solo",
                concurrency=1,
                perform_ping_check=False,
                shutdown_timeout=10,
                loglevel="WARNING",
            ) as worker,
        ):
            yield worker
    finally:
        for key, value in previous.items():
            celery_app.conf[key] = value
        _forget_routing()


def _others_busy() -> bool:
    """Whether another connection to the test database is running a statement or holds a transaction open."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
        )
        return bool(cursor.fetchone()[0])


@pytest.fixture(autouse=True)
def _database_quiet_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let the live server's last requests and the worker's last task finish before the test database is
    flushed: the flush's TRUNCATE against their row writes was a deadlock in teardown (an ERROR, not a bug)."""
    if "transactional_db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up before this fixture, so torn down after it
    yield
    wait_for(lambda: not _others_busy(), timeout=15)


@pytest.fixture
def desk(transactional_db: Any, live_server: Any, celery_worker: Any, settings: Any) -> Any:
    """The live server's URL, with orders flowing through the worker to the simulator."""
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 5.0
    return live_server


def seed_position(project: Project, symbol: str, quantity: int, price: str) -> Position:
    """A seeded filled order (source "seed": never sent to an engine) that opens a position."""
    order_seed_filled(
        project=project,
        client_order_id=f"seed_{project.pk}_{symbol}",
        symbol=symbol,
        side="BUY",
        quantity=quantity,
        price=price,
    )
    return Position.objects.get(project=project, mode=project.mode, symbol=symbol)


def log_in(context: Any, base_url: str, user: Any) -> None:
    """Give the browser a logged-in session cookie."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def open_desk(page: Page, desk: Any, user: Any, project: Project, *, lang: str | None = None) -> None:
    """Log in and open the project's live-trade page (in `lang` when given), waiting for its positions."""
    log_in(page.context, desk.url, user)
    language = f"&lang={lang}" if lang else ""
    page.goto(f"{desk.url}/live-trade?project={project.pk}{language}")
    expect(page.get_by_test_id("account-positions-table")).to_be_visible()


def widen_price_bands(project: Project) -> None:
    """Far-from-market limits keep working; the bands would refuse them otherwise."""
    project.price_band_soft_pct = project.price_band_hard_pct = Decimal("99.9")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])


@dataclass
class AsgiDesk:
    url: str
    server: uvicorn.Server
    loop: asyncio.AbstractEventLoop | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def asgi_desk(transactional_db: Any, celery_worker: Any, settings: Any) -> Iterator[AsgiDesk]:
    """uvicorn serving tradedesk.asgi in a thread of this process (so on the test database), plus the
    engine host's ingest watcher, which is what reads the simulator's events when no page polls."""
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 5.0
    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    desk = AsgiDesk(url=f"http://127.0.0.1:{port}", server=server)

    def serve() -> None:
        loop = asyncio.new_event_loop()
        desk.loop = loop
        try:
            loop.run_until_complete(server.serve())
        finally:
            loop.close()

    stop = threading.Event()

    def watch() -> None:
        try:
            ingest_watch(stop=stop)
        finally:
            connection.close()

    threads = [threading.Thread(target=serve, daemon=True), threading.Thread(target=watch, daemon=True)]
    for thread in threads:
        thread.start()
    assert _wait(lambda: server.started, 15), "uvicorn did not start"
    yield desk
    stop.set()
    server.should_exit = True
    server.force_exit = True
    for thread in threads:
        thread.join(15)
    stream_db.db_close()
    # The ASGI handler ran each request's sync part on a thread of its own: their connections go with them.
    gc.collect()


def _wait(predicate: Any, timeout: float) -> bool:
    return bool(wait_for(predicate, timeout, interval=0.05))


def open_streaming_desk(page: Page, desk: AsgiDesk, user: Any, project: Project) -> None:
    """The desk with its push stream open."""
    open_desk(page, desk, user, project)
    expect(page.locator("html[data-stream=open]")).to_have_count(1)
