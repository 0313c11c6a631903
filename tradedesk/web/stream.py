"""The live-trade page's push stream: Server-Sent Events telling the page which of its partials changed, so it
fetches exactly those (the same partials and 204s as its poll) and makes no request while nothing moves.

Served by an ASGI server on its own process and route (`/live-trade/stream`; docs/deploy.md): an open stream
is a coroutine waiting on this process's hub, never a thread or a worker that a POST needs. One hub per event
loop wakes every stream: on a Redis pub/sub message (execution/push.py) or, without Redis, when the change
token moved (checked every POLL_SECONDS). A stream re-checks its access (the session, its user's password hash
and active flag, the auth epoch through the cached session and user, the membership) when it opens, at every
keep-alive, and at once whenever the access counter moved (orders.services.access_version: a logout, a saved
or deleted user, a membership added or removed), announced by its own message or seen in the change token:
a revoke, a logout or a removed membership ends the stream at once, and a wake-up for a fill or a price costs
no access query. What a wake-up tells (a project's counters, a mode's prices and account versions) is read
once per wake-up and project for every stream of the process. A stream ends by itself after
STREAM_MAX_SECONDS (the browser reconnects, like a recycled worker's or a deploy's streams) and resumes from
the last version it saw (Last-Event-ID)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare

from execution.actions import account_version, change_token, prices_version, push_channel, push_enabled
from orders import doors, selectors
from orders.doors import project_for_user
from orders.errors import NotFound
from orders.models import ProjectVersion
from tradedesk.web.stream_db import in_db, in_mark_thread
from tradedesk.web.stream_rows import Look, RowsSent, RowsSnapshot, rows_event, rows_snapshot

logger = logging.getLogger("tradedesk.web.stream")

# Without Redis: how often a stream process compares the change token (a few tens of ms: the target).
POLL_SECONDS = 0.025
# With Redis: how often the token is compared anyway (a message lost while Redis restarted).
SAFETY_SECONDS = 1.0
# A comment line this often keeps proxies from closing an idle stream; each one re-checks access too.
KEEPALIVE_SECONDS = 15.0
# Streams end after this long (plus up to a fifth more, so a deploy's reconnects spread) and reconnect.
STREAM_MAX_SECONDS = 300.0
# The browser's reconnection delay after a stream ends (EventSource `retry`).
RETRY_MS = 1000
# Wake-ups remembered for streams that were busy (each names the projects or snapshot that changed).
_RECENT = 256


class Hub:
    """Wakes every stream of one event loop when something changed; the payloads say what."""

    def __init__(self) -> None:
        self.generation = 0
        self.recent: deque[tuple[int, dict[str, Any] | None]] = deque(maxlen=_RECENT)
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.streams = 0
        # (generation, project id, mode) -> the read of what that wake-up tells, shared by its streams.
        self._seen: dict[tuple[int, int, str], asyncio.Future[Seen]] = {}
        # (generation, project id, look) -> the rows that wake-up's pushes carry, rendered once for its streams.
        self._rows: dict[tuple[int, int, Look], asyncio.Future[RowsSnapshot]] = {}
        # project id -> the generation whose orders change was last marked pushed (orders/services/stages.py).
        self._pushed: dict[int, int] = {}
        self._marking: set[asyncio.Future[Any]] = set()

    async def seen_now(self, project_id: int, mode: str) -> Seen:
        """The project's and its mode's versions after the latest wake-up: one read for all its streams."""
        seen: Seen = await self._once(
            self._seen, (self.generation, project_id, mode), project_seen, project_id, mode
        )
        return seen

    async def rows_now(self, project_id: int, look: Look) -> RowsSnapshot:
        """The project's table rows after the latest wake-up: one read and render for all its streams."""
        rows: RowsSnapshot = await self._once(
            self._rows, (self.generation, project_id, look), rows_snapshot, project_id, look
        )
        return rows

    async def _once(
        self,
        cache: dict[Any, asyncio.Future[Any]],
        key: tuple[Any, ...],
        function: Callable[..., Any],
        *args: Any,
    ) -> Any:
        """`function(*args)` on the DB thread once per wake-up and key, shared by every stream that asks."""
        found = cache.get(key)
        if found is None:
            for old in [old for old in cache if old[0] < self.generation]:
                del cache[old]
            found = cache[key] = asyncio.ensure_future(in_db(function, *args))
        try:
            return await asyncio.shield(found)
        except Exception:
            cache.pop(key, None)  # the next wake-up reads again
            raise

    def mark_pushed(self, project_id: int, generation: int, at: datetime) -> asyncio.Future[Any] | None:
        """The fills this wake-up announced are pushed (at `at`, when the event was sent, not when a database
        thread gets to it): once per wake-up and project, not once per stream, on the marking thread while
        the stream goes on."""
        if self._pushed.get(project_id, -1) >= generation:
            return None
        self._pushed[project_id] = generation
        marking = in_mark_thread(order_stages_pushed, project_id, at)
        self._marking.add(marking)
        marking.add_done_callback(self._marked)
        return marking

    def _marked(self, marking: asyncio.Future[Any]) -> None:
        self._marking.discard(marking)
        if not marking.cancelled() and marking.exception() is not None:
            logger.error("stream: recording the pushed stage time failed", exc_info=marking.exception())

    def wake(self, payload: dict[str, Any] | None) -> None:
        """Something changed (None: unknown what): every waiting stream looks."""
        self.generation += 1
        self.recent.append((self.generation, payload))
        event, self._event = self._event, asyncio.Event()
        event.set()

    def since(self, generation: int) -> list[dict[str, Any] | None]:
        """The payloads of the wake-ups after `generation` (a None when some were forgotten)."""
        payloads = [payload for number, payload in self.recent if number > generation]
        if self.recent and self.recent[0][0] > generation + 1:
            payloads.append(None)
        return payloads

    async def wait(self, generation: int, timeout: float) -> int:
        """The generation after the next wake-up, or the same one after `timeout` seconds."""
        self.ensure_running()
        if self.generation == generation:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        return self.generation

    def ensure_running(self) -> None:
        """Start the watching task on the running loop (again if it ever died)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        token = await in_db(change_token)
        while True:
            try:
                if push_enabled():
                    token = await self._listen(token)
                else:
                    await asyncio.sleep(POLL_SECONDS)
                    token = await self._compare(token)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database or Redis outage: keep watching, streams keep their keep-alives
                logger.exception("stream hub: watching failed; trying again")
                await asyncio.sleep(1.0)

    async def _compare(self, token: Any) -> Any:
        new = await in_db(change_token)
        access, data = new
        if access != token[0]:
            self.wake({"access": True})  # every stream re-checks, then tells what moved
        elif data != token[1]:
            self.wake({"all": True})  # something moved, not who may see it: every stream looks
        return new

    async def _listen(self, token: Any) -> Any:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(settings.TRADEDESK_PUSH_URL, socket_connect_timeout=1.0)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(push_channel())
            # Anything committed before the subscription was answered is caught by this comparison.
            token = await self._compare(token)
            compared = time.monotonic()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=SAFETY_SECONDS)
                if time.monotonic() - compared >= SAFETY_SECONDS:
                    # Also while messages keep coming (prices every few seconds): a lost one is seen here.
                    token = await self._compare(token)
                    compared = time.monotonic()
                if message is None:
                    continue
                try:
                    payload = orjson.loads(message["data"])
                except (orjson.JSONDecodeError, TypeError):
                    payload = None
                self.wake(payload if isinstance(payload, dict) else None)
        finally:
            await pubsub.aclose()
            await client.aclose()


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (one per ASGI server process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub()
    return found


@dataclass(frozen=True)
class Access:
    """Who a stream serves: read from its request once, re-checked on every wake-up."""

    session_key: str
    user_id: str
    auth_hash: str
    project_id: int
    look: Look


@dataclass(frozen=True)
class Seen:
    """What the page has been told: the project's counters, its mode's prices and account versions."""

    orders: str = ""
    prices: str = ""
    account: str = ""

    @property
    def event_id(self) -> str:
        return f"{self.orders}/{self.prices}/{self.account}"

    @classmethod
    def parse(cls, raw: str) -> Seen:
        orders, _, rest = raw.partition("/")
        prices, _, account = rest.partition("/")
        return cls(orders=orders[:100], prices=prices[:200], account=account[:200])


# A mode's prices and account versions, shared by every stream of the process woken by the same change (a
# prices file replaced wakes them all): read once per VERSIONS_TTL, not once per stream.
VERSIONS_TTL = 0.1
_versions: dict[str, tuple[float, str, str]] = {}


def mode_versions(mode: str) -> tuple[str, str]:
    """(prices version, account version) of a mode, read at most once per VERSIONS_TTL (on the DB thread)."""
    now = time.monotonic()
    cached = _versions.get(mode)
    if cached is not None and now - cached[0] < VERSIONS_TTL:
        return cached[1], cached[2]
    prices, account = prices_version(mode), account_version(mode)
    _versions[mode] = (now, prices, account)
    return prices, account


def order_stages_pushed(project_id: int, at: datetime) -> None:
    """The fills this stream just announced are pushed (orders/services/stages.py: the first stream wins)."""
    doors.order_stages_pushed(project_id=project_id, at=at)


def project_seen(project_id: int, mode: str) -> Seen:
    """The project's counters and its mode's prices and account versions (on the DB thread)."""
    row = ProjectVersion.objects.filter(project_id=project_id).values_list("orders", "positions").first()
    orders, positions = row if row is not None else (0, 0)
    prices, account = mode_versions(mode)
    return Seen(orders=f"{orders}.{positions}", prices=prices, account=account)


def access_check(access: Access) -> tuple[str, Seen] | None:
    """(the project's mode, its current versions) while the session still grants the project, else None."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(session_key=access.session_key)
    data = session.load()
    if str(data.get(SESSION_KEY, "")) != access.user_id:
        return None  # logged out, expired or another user's session now
    user = get_user_model()._default_manager.filter(pk=access.user_id, is_active=True).first()
    if user is None or not constant_time_compare(access.auth_hash, user.get_session_auth_hash()):
        return None  # deactivated, deleted or a new password
    if not constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), access.auth_hash):
        return None
    try:
        project = project_for_user(user=user, project_id=access.project_id, with_counters=True)
    except NotFound:
        return None  # the membership was removed
    orders, positions, _changed = selectors.project_counters(project=project)
    mode = project.mode
    prices, account = mode_versions(mode)
    return mode, Seen(orders=f"{orders}.{positions}", prices=prices, account=account)


def _event(name: str, seen: Seen, data: str = "") -> bytes:
    return f"id: {seen.event_id}\nevent: {name}\ndata: {data or name}\n\n".encode()


def _access_moved(payloads: list[dict[str, Any] | None]) -> bool:
    """Whether any wake-up may have ended someone's access (unknown ones always may)."""
    return any(payload is None or payload.get("access") for payload in payloads)


def _relevant(payloads: list[dict[str, Any] | None], *, project_id: int, mode: str) -> bool:
    """Whether any wake-up may concern this stream (unknown ones always may)."""
    for payload in payloads:
        if payload is None or payload.get("all") or payload.get("access"):
            return True
        if project_id in payload.get("projects", ()):
            return True
        snapshot = payload.get("snapshot")
        if isinstance(snapshot, dict) and snapshot.get("mode") == mode:
            return True
    return False


async def pushed_rows(the_hub: Hub, access: Access, sent: RowsSent) -> tuple[bytes | None, str]:
    """The `rows` event of an orders change, if a few rows the page may show changed (stream_rows.py), and
    the `orders` event's data: "covered <counter>" when those rows are all its answer would change,
    "table <counter>" when only the table's part of it did."""
    try:
        snapshot = await the_hub.rows_now(access.project_id, access.look)
    except Exception:  # a database outage: the `orders` event still goes, and the page fetches
        logger.exception("stream: rendering the changed rows failed")
        sent.shape = None  # what the page shows is the fetch's now: the next push covers nothing
        return None, ""
    rows = sent.changed(snapshot)
    data = (
        f"covered {snapshot.counter}"
        if sent.covered
        else f"table {snapshot.counter}"
        if sent.table_only
        else ""
    )
    return (rows_event(snapshot, rows) if rows else None), data


async def stream_events(access: Access, seen: Seen, sent: RowsSent) -> AsyncIterator[bytes]:
    """The stream: an event per changed part, a keep-alive comment when idle, the end on lost access."""
    the_hub = hub()
    the_hub.ensure_running()
    the_hub.streams += 1
    started, spread = time.monotonic(), 1 + random.random() / 5
    generation = the_hub.generation
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        check, look = True, True
        mode = ""
        while True:
            if check:
                state = await in_db(access_check, access)
                if state is None:
                    yield b"event: denied\ndata: denied\n\n"
                    return
                mode, now = state
            elif look:
                now = await the_hub.seen_now(access.project_id, mode)
            if check or look:
                if now.orders != seen.orders:
                    # The changed rows first, the moment they are rendered: they show an engine's answer
                    # without the fetch, and the fetch the event then starts (new rows, the header, the
                    # positions) no longer competes with their render; none when the rows cover it.
                    rows, data = await pushed_rows(the_hub, access, sent)
                    if rows is not None:
                        yield rows
                    # The header's engine state moved too (the account's version carries it): not covered.
                    yield _event("orders", now, data if now.account == seen.account else "")
                    the_hub.mark_pushed(access.project_id, generation, timezone.now())
                if now.prices != seen.prices:
                    yield _event("prices", now)
                if now.account != seen.account:
                    yield _event("account", now)
                seen = now
            if time.monotonic() - started >= STREAM_MAX_SECONDS * spread:
                return  # the browser reconnects with Last-Event-ID (as after a recycled worker or a deploy)
            before = generation
            generation = await the_hub.wait(generation, KEEPALIVE_SECONDS)
            if generation == before:
                yield b": keep-alive\n\n"
                check = True  # access is re-checked at every keep-alive too (an expired session)
            else:
                payloads = the_hub.since(before)
                check = _access_moved(payloads)
                look = _relevant(payloads, project_id=access.project_id, mode=mode)
    finally:
        the_hub.streams -= 1


async def live_stream(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """GET /live-trade/stream?project=: the page's push stream (ASGI only; elsewhere 204, the page polls)."""
    if "wsgi.version" in request.META:
        # A WSGI worker would be held for the stream's life: this route belongs to the ASGI process.
        return HttpResponse(status=204)
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=401)
    session_key = request.session.session_key
    auth_hash = await in_db(request.session.get, HASH_SESSION_KEY, "")
    try:
        project_id = int(request.GET.get("project", ""))
    except ValueError:
        return HttpResponse(status=404)
    if session_key is None or project_id <= 0 or project_id > 2**31 - 1:
        return HttpResponse(status=404)
    # The request's language and zone (its middleware's): the pushed rows are rendered in them.
    look = Look(
        language=translation.get_language() or settings.LANGUAGE_CODE,
        zone=timezone.get_current_timezone_name(),
    )
    access = Access(
        session_key=session_key,
        user_id=str(user.pk),
        auth_hash=str(auth_hash),
        project_id=project_id,
        look=look,
    )
    if await in_db(access_check, access) is None:
        return HttpResponse(status=404)
    seen = Seen.parse(request.headers.get("Last-Event-ID", ""))
    sent = RowsSent(request.GET.get("rv", ""))
    response = StreamingHttpResponse(stream_events(access, seen, sent), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
