"""The live path on screen (issue 23), for bench/latency.py: click -> FILLED in headless Chromium, timed inside
the page (performance.now() from the click to the row turning FILLED), and what open push streams cost: the
stream process's own CPU time with 50 idle raw stream clients, how far apart 50 streams see one change, and
the POSTs with them open."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

CHROMIUM = "/usr/bin/chromium"

# Runs inside the page: click Buy on the first position row, resolve with the milliseconds until one more
# manual order row (by its id: the table shows the latest 100) shows FILLED (a MutationObserver, so no polling
# of the DOM skews the figure), that row's order id, the click's wall clock and what the page saw meanwhile:
# each stream event and each fetch of the orders partial (wall clock ms, to line up with the stage times).
CLICK_TO_FILLED_JS = """
async () => {
  const filledIds = () => new Set(Array.from(document.querySelectorAll(
    '#orders-panel tr[data-source=manual][data-status=FILLED]')).map((row) => row.dataset.orderId));
  const row = document.querySelector('[data-testid=account-positions-table] tbody tr');
  const button = row.querySelector('[data-testid=row-buy]');
  const before = filledIds();
  const seen = [];
  const onSse = (evt) => seen.push(['sse', evt.detail.type, Date.now()]);
  // The pushed rows placed (pushed-rows.js), every row of the push shown or some waiting for an answer.
  const onRows = (evt) => seen.push(['rows', evt.detail.complete ? 'placed' : 'waiting', Date.now()]);
  const onStart = (evt) => { if (evt.detail.elt.id === 'poller') seen.push(['fetch', 'start', Date.now()]); };
  // Each answered fetch's Resource Timing (wall ms): sent, first byte, last byte, the server's own time
  // (Server-Timing), then htmx's swap of it.
  const wall = (ms) => performance.timeOrigin + ms;
  const onEnd = (evt) => {
    if (evt.detail.elt.id !== 'poller') return;
    const now = Date.now();
    const url = evt.detail.xhr.responseURL;
    const entry = performance.getEntriesByName(url).pop();
    if (entry) {
      const app = (entry.serverTiming || []).find((timing) => timing.name === 'app');
      seen.push(['net', 'sent', wall(entry.requestStart || entry.startTime)]);
      seen.push(['net', 'first byte', wall(entry.responseStart)]);
      seen.push(['net', 'last byte', wall(entry.responseEnd)]);
      seen.push(['net', 'app', app ? app.duration : -1]);
      seen.push(['net', 'bytes', entry.encodedBodySize || 0]);
    }
    seen.push(['fetch', String(evt.detail.xhr.status), now]);
  };
  const onSwapped = (evt) => {
    if (evt.detail.elt && evt.detail.elt.id === 'poller') seen.push(['swap', 'done', Date.now()]);
  };
  document.addEventListener('htmx:sseMessage', onSse);
  document.addEventListener('td:rows-pushed', onRows);
  document.addEventListener('htmx:beforeRequest', onStart);
  document.addEventListener('htmx:afterRequest', onEnd);
  document.addEventListener('htmx:afterSwap', onSwapped);
  return await new Promise((resolve, reject) => {
    // A page that never shows FILLED (a refused click, a broken swap) fails the bench instead of holding it.
    const timer = setTimeout(() => reject(new Error('no FILLED row within 30 s of the click')), 30000);
    const observer = new MutationObserver(() => {
      for (const id of filledIds()) {
        if (!before.has(id)) {
          observer.disconnect();
          clearTimeout(timer);
          document.removeEventListener('htmx:sseMessage', onSse);
          document.removeEventListener('td:rows-pushed', onRows);
          document.removeEventListener('htmx:beforeRequest', onStart);
          document.removeEventListener('htmx:afterRequest', onEnd);
          document.removeEventListener('htmx:afterSwap', onSwapped);
          resolve({ms: performance.now() - started, id: Number(id), clicked: clickedAt, filled: Date.now(), seen});
          return;
        }
      }
    });
    observer.observe(document.body, {subtree: true, childList: true, attributes: true});
    const started = performance.now();
    const clickedAt = Date.now();
    button.click();
  });
}
"""


@dataclass
class Click:
    """One timed click: the page's milliseconds to FILLED, the order, and what the page saw (wall ms)."""

    ms: float
    order_id: int
    clicked: float
    filled: float
    seen: list[tuple[str, str, float]]


def session_cookie(username: str) -> tuple[str, str]:
    """A logged-in session of `username` in the bench database: (cookie name, value)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def seed_position(project_id: int, *, symbol: str = "AAPL", quantity: int = 10) -> None:
    """A seeded filled order (never sent to an engine) so the page has a position row to click Buy on."""
    from orders.models import Project
    from orders.services import order_seed_filled

    project = Project.objects.get(pk=project_id)
    order_seed_filled(
        project=project,
        client_order_id=f"seed_{project_id}_{symbol}",
        symbol=symbol,
        side="BUY",
        quantity=quantity,
        price="189.20",
    )


def click_to_filled(base_url: str, cookie: tuple[str, str], project_id: int, count: int) -> list[Click]:
    """Each click of Buy timed to its row FILLED on the page, `count` clicks one after another."""
    from playwright.sync_api import sync_playwright

    times: list[Click] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": base_url}])
        page = context.new_page()
        page.goto(f"{base_url}/live-trade?project={project_id}")
        page.wait_for_selector("[data-testid=account-positions-table] tbody tr")
        page.wait_for_timeout(1500)  # the stream open (where there is one) and the first fetches done
        page.locator("[data-testid=account-positions-table] tbody tr").first.locator(
            "input[name=quantity]"
        ).fill("1")
        for _ in range(count):
            found = page.evaluate(CLICK_TO_FILLED_JS)
            times.append(
                Click(
                    ms=float(found["ms"]),
                    order_id=int(found["id"]),
                    clicked=float(found["clicked"]),
                    filled=float(found["filled"]),
                    seen=[(str(a), str(b), float(c)) for a, b, c in found["seen"]],
                )
            )
            page.wait_for_timeout(150)  # the Buy button enabled again, the notice settled
        browser.close()
    return times


@dataclass
class RawStream:
    """One SSE client of /live-trade/stream reading in a thread; notes when each `orders` event came."""

    port: int
    cookie: tuple[str, str]
    project_id: int
    orders_at: list[float] = field(default_factory=list)
    opened: threading.Event = field(default_factory=threading.Event)
    conn: http.client.HTTPConnection | None = None

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Cookie": f"{self.cookie[0]}={self.cookie[1]}", "Accept": "text/event-stream"}
        self.conn.request("GET", f"/live-trade/stream?project={self.project_id}", headers=headers)
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
                    self.orders_at.append(time.time())
        except OSError:
            return

    def close(self) -> None:
        # A shutdown ends the reader's readline (a close would wait on the reader's lock).
        if self.conn is not None and self.conn.sock is not None:
            with contextlib.suppress(OSError):
                self.conn.sock.shutdown(socket.SHUT_RDWR)


def open_streams(port: int, cookie: tuple[str, str], project_id: int, count: int) -> list[RawStream]:
    """`count` open raw streams (each waits until the server answered 200)."""
    streams = [RawStream(port=port, cookie=cookie, project_id=project_id) for _ in range(count)]
    for stream in streams:
        stream.start()
    for stream in streams:
        if not stream.opened.wait(30):
            raise SystemExit("a raw stream did not open within 30 s")
    return streams


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its threads so far (/proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def idle_cost(pid: int, seconds: float) -> float:
    """The share of one core a process used over `seconds` of wall time (0.05 = 5 %)."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def spread_of_one_change(streams: list[RawStream], post: Any) -> tuple[float, float]:
    """Seconds from a POST to the first and to the last of the streams seeing an `orders` event after it."""
    marks = [len(stream.orders_at) for stream in streams]
    start = time.time()
    post()
    deadline = start + 30
    while time.time() < deadline:
        if all(len(stream.orders_at) > mark for stream, mark in zip(streams, marks, strict=True)):
            break
        time.sleep(0.005)
    seen = [
        stream.orders_at[mark]
        for stream, mark in zip(streams, marks, strict=True)
        if len(stream.orders_at) > mark
    ]
    if len(seen) < len(streams):
        raise SystemExit(f"only {len(seen)} of {len(streams)} streams saw the change within 30 s")
    return min(seen) - start, max(seen) - start


# The gaps of one click, in order: the order's stage times (the server's and the engine's clocks, one machine
# here), then what the page saw after the stream's push: (label, milliseconds).
SERVER_GAPS = (
    ("click -> committed", "clicked", "committed"),
    ("committed -> picked up", "committed", "picked_up"),
    ("picked up -> handed to engine", "picked_up", "handed_over"),
    ("handed -> acknowledged (Submitted)", "handed_over", "submitted"),
    ("acknowledged -> filled", "submitted", "filled"),
    ("filled -> ingested", "filled", "ingested"),
    ("ingested -> pushed", "ingested", "pushed"),
)


def click_gaps(click: Click) -> list[tuple[str, float]]:
    """Where one click's time went: the order's stage times, then the page's stream event and fetch."""
    from orders.models import OrderStageTimes

    row = OrderStageTimes.objects.filter(order_id=click.order_id).values().first() or {}
    moments: dict[str, float] = {"clicked": click.clicked}
    for stage in ("committed", "picked_up", "handed_over", "submitted", "filled", "ingested", "pushed"):
        value = row.get(f"{stage}_at")
        if value is not None:
            moments[stage] = value.timestamp() * 1000
    gaps = [
        (label, moments[end] - moments[start])
        for label, start, end in SERVER_GAPS
        if start in moments and end in moments
    ]
    # The page: the last orders event and the last answered fetch of the orders partial before FILLED showed.
    ingested = moments.get("ingested", click.clicked)
    events = [
        at for kind, name, at in click.seen if kind == "sse" and name == "orders" and at >= ingested - 5
    ]
    starts = [at for kind, name, at in click.seen if kind == "fetch" and name == "start"]
    ends = [at for kind, name, at in click.seen if kind == "fetch" and name == "200"]
    # The fill's pushed rows in place on the page: the last push placed after its ingest and by FILLED.
    placed = [
        at for kind, _name, at in click.seen if kind == "rows" and ingested - 5 <= at <= click.filled + 2
    ]
    if placed:
        gaps.append(("pushed -> rows placed in the page", placed[-1] - moments.get("pushed", placed[-1])))
        gaps.append(("rows placed -> FILLED shown", click.filled - placed[-1]))
    gaps.append(("fetches of the orders partial, click -> FILLED", float(len(starts_of(click)))))
    if events:
        gaps.append(("pushed -> event in the page", events[0] - moments.get("pushed", events[0])))
        later = [at for at in starts if at >= events[0]]
        if later:
            gaps.append(("event -> fetch sent", later[0] - events[0]))
    if ends:
        # The last answered fetch's own start: the nearest start before it in the page's order of events
        # (a queued fetch starts in the same millisecond as the one before it ends).
        last = max(
            index for index, (kind, name, _at) in enumerate(click.seen) if kind == "fetch" and name == "200"
        )
        began = next(
            (at for kind, name, at in reversed(click.seen[:last]) if kind == "fetch" and name == "start"),
            ends[-1],
        )
        gaps.append(("fetch (sent -> answered)", ends[-1] - began))
        gaps.extend(_fetch_parts(click.seen[:last], began, ends[-1]))
        gaps.append(("answered -> FILLED shown", click.filled - ends[-1]))
    gaps.append(("ingested -> FILLED shown", click.filled - ingested))
    return gaps


def starts_of(click: Click) -> list[float]:
    """When each fetch of the orders partial the click's window saw was started."""
    return [at for kind, name, at in click.seen if kind == "fetch" and name == "start"]


def _fetch_parts(
    seen: list[tuple[str, str, float]], began: float, answered: float
) -> list[tuple[str, float]]:
    """One answered fetch split by the browser's Resource Timing and the server's Server-Timing: htmx's
    own start -> the request sent, sent -> first byte (of which the view's own time; the rest is the wait
    for the server's thread), the transfer, and the last byte -> htmx done (the swap)."""
    net: dict[str, float] = {}
    for kind, name, value in reversed(seen):
        if kind != "net":
            break
        net.setdefault(name, value)
    if "sent" not in net:
        return []
    parts = [
        ("  fetch: htmx -> sent", net["sent"] - began),
        ("  fetch: sent -> first byte", net["first byte"] - net["sent"]),
    ]
    if net.get("app", -1) >= 0:
        parts.append(("  fetch: of which the view (Server-Timing)", net["app"]))
    parts.append(("  fetch: first -> last byte", net["last byte"] - net["first byte"]))
    parts.append(("  fetch: last byte -> swapped and answered", answered - net["last byte"]))
    parts.append(("  fetch: kB", net.get("bytes", 0) / 1000))
    return parts
