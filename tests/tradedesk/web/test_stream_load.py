"""50 open push streams do not hold up a POST: on the ASGI server (uvicorn, as `make run` and the stream
process serve it) with 50 raw stream clients connected, an order POST is answered (201) and every stream
then tells its page that the orders changed. A generous bound on correctness only; the timing is
bench/latency.py's (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from django.conf import settings as django_settings
from django.test import Client

from tests.waiting import wait_for
from tradedesk.asgi import application
from tradedesk.web import stream_db

pytestmark = pytest.mark.django_db(transaction=True)

STREAMS = 50


@pytest.fixture
def server(monkeypatch: Any) -> Iterator[int]:
    monkeypatch.setattr("execution.signals.dispatch_enqueue", lambda **kwargs: None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(instance.serve()), daemon=True)
    thread.start()
    assert wait_for(lambda: instance.started, 15)
    yield port
    instance.should_exit = instance.force_exit = True
    thread.join(15)
    stream_db.db_close()
    gc.collect()


class RawStream(threading.Thread):
    def __init__(self, port: int, cookie: str, project_id: int) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie, self.project_id = port, cookie, project_id
        self.opened = threading.Event()
        self.orders_events = 0
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def run(self) -> None:
        self.conn.request(
            "GET", f"/live-trade/stream?project={self.project_id}", headers={"Cookie": self.cookie}
        )
        response = self.conn.getresponse()
        if response.status != 200:
            return
        self.opened.set()
        try:
            while response.fp is not None:
                line = response.fp.readline()
                if not line:
                    return
                if line.startswith(b"event: orders"):
                    self.orders_events += 1
        except (OSError, ValueError, AttributeError):
            return


def test_fifty_open_streams_do_not_hold_up_an_order_post(
    server: int, user: Any, project: Any, token: str
) -> None:
    client = Client()
    client.force_login(user)
    cookie = (
        f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    )
    streams = [RawStream(server, cookie, project.pk) for _ in range(STREAMS)]
    for raw in streams:
        raw.start()
    assert all(raw.opened.wait(30) for raw in streams)
    assert wait_for(lambda: all(raw.orders_events >= 1 for raw in streams), 30)  # each connect's first event
    seen = [raw.orders_events for raw in streams]

    api = http.client.HTTPConnection("127.0.0.1", server, timeout=30)  # generous: correctness, not speed
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}
    started = time.monotonic()
    api.request(
        "POST",
        "/api/trade/orders",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = api.getresponse()
    assert response.status == 201, response.read()
    assert time.monotonic() - started < 30
    # Every stream is still open and tells its page about the new order.
    assert wait_for(
        lambda: all(raw.orders_events > before for raw, before in zip(streams, seen, strict=True)), 30
    )
    assert all(raw.is_alive() for raw in streams)
    for raw in streams:  # a shutdown ends each reader's readline (close would wait on it)
        if raw.conn.sock is not None:
            raw.conn.sock.shutdown(socket.SHUT_RDWR)
