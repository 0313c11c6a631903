"""Push: after a committed change, a message on Redis pub/sub naming what changed; the stream process (one
subscription per process) relays it to the open pages over Server-Sent Events.

Redis pub/sub rather than PostgreSQL NOTIFY: Redis already runs beside every production host (broker, shared
cache); the engines' snapshots ride the same path and outgrow NOTIFY's 8,000-byte payload (a prices file of a
few hundred symbols), so they are stored under a key and announced; and a stream process holds one
subscription, not a database connection kept LISTENing. NOTIFY's one advantage, sent only at commit, is had
here by publishing from `transaction.on_commit`. Without Redis (`make run`'s SQLite and filesystem broker)
nothing is published and each stream process watches the change counter itself (tradedesk/web/stream.py).

A message is JSON: {"projects": [ids whose change counter moved]}, {"snapshot": {"mode", "name"}} (a
snapshot file replaced: prices.json, account.json, any `<name>.json` of SNAPSHOT_NAMES) or {"access": n}
(the access counter moved: every stream re-checks its session, user and membership)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import redis
from django.conf import settings

from execution.contract.folder import ENGINES_DIR

logger = logging.getLogger("execution.push")

# The engines' snapshot files published by name (`<name>.json` beside events.jsonl). The account snapshot
# (issue 25) is published the moment its engine writes it; nothing here knows its content.
SNAPSHOT_NAMES = ("prices", "account")

_client: redis.Redis | None = None
_client_url = ""
_client_lock = threading.Lock()
# (mode, name) -> the stat key of the file last published, so an unchanged snapshot is never sent again.
_published: dict[tuple[str, str], tuple[int, int, int, int]] = {}
_warned = threading.Event()


def push_channel() -> str:
    """The pub/sub channel of this deployment (its database's name in it, like the cache's keys)."""
    return f"{settings.TRADEDESK_PUSH_PREFIX}:changes"


def snapshot_key(mode: str, name: str) -> str:
    """Where the last published copy of a mode's snapshot is kept (for web hosts without engine files)."""
    return f"{settings.TRADEDESK_PUSH_PREFIX}:snapshot:{mode}:{name}"


def push_enabled() -> bool:
    """True when there is a Redis to publish on (TRADEDESK_PUSH_URL, by default the shared cache's)."""
    return bool(settings.TRADEDESK_PUSH_URL)


def push_client() -> redis.Redis | None:
    """This process's Redis client for publishing (short timeouts: a Redis outage never holds a request)."""
    global _client, _client_url
    url = settings.TRADEDESK_PUSH_URL
    if not url:
        return None
    with _client_lock:
        if _client is None or _client_url != url:
            _client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            _client_url = url
        return _client


def _publish(message: dict[str, Any]) -> bool:
    client = push_client()
    if client is None:
        return False
    try:
        client.publish(push_channel(), orjson.dumps(message))
    except redis.RedisError as exc:
        # The pages' streams fall back to their own check of the change counter; one warning per process.
        if not _warned.is_set():
            _warned.set()
            logger.warning("push: could not publish (%s); the streams check the change counter", exc)
        return False
    _warned.clear()
    return True


def changes_publish(*, project_ids: Iterable[int]) -> bool:
    """Announce that these projects' change counters moved (called after their commit)."""
    ids = sorted({int(pk) for pk in project_ids})
    return bool(ids) and _publish({"projects": ids})


def project_versions_changed(sender: Any, project_ids: Iterable[int], **kwargs: Any) -> None:
    """Receiver of orders.services.versions.project_versions_changed (sent on commit)."""
    changes_publish(project_ids=project_ids)


def access_changed(sender: Any, **kwargs: Any) -> None:
    """Receiver of orders.services.access_changed (sent on commit): the streams re-check their access."""
    _publish({"access": True})


def stat_key(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What tells a replaced snapshot file from the one before it (device, inode, size, mtime)."""
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def snapshots_publish(*, root: Path | None = None) -> list[tuple[str, str]]:
    """Store and announce every engine snapshot replaced since it was last published: (mode, name) of each.

    Run by the engine host's ingest watcher on each wake-up, so web hosts that see no engine folder
    (TRADEDESK_ENGINE_FILES_LOCAL=false) read the snapshot from Redis (snapshot_read)."""
    client = push_client()
    if client is None:
        return []
    engines = Path(root or settings.TRADEDESK_EXECUTION_ROOT) / ENGINES_DIR
    try:
        modes = sorted(entry.name for entry in os.scandir(engines) if entry.is_dir(follow_symlinks=False))
    except OSError:
        return []
    sent = []
    for mode in modes:
        for name in SNAPSHOT_NAMES:
            path = engines / mode / f"{name}.json"
            try:
                stat = os.stat(path, follow_symlinks=False)
                if _published.get((mode, name)) == stat_key(stat):
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            version = f"{stat.st_ino}:{stat.st_mtime_ns}"
            try:
                client.set(snapshot_key(mode, name), orjson.dumps({"version": version}) + b"\n" + data)
            except redis.RedisError as exc:
                logger.warning("push: could not store the %s snapshot of %s (%s)", name, mode, exc)
                continue
            _published[(mode, name)] = stat_key(stat)
            if _publish({"snapshot": {"mode": mode, "name": name}}):
                sent.append((mode, name))
    return sent


def snapshot_read(mode: str, name: str) -> tuple[str, bytes] | None:
    """(version, the file's bytes) of the last published snapshot, or None (no Redis, nothing published)."""
    client = push_client()
    if client is None:
        return None
    try:
        stored = client.get(snapshot_key(mode, name))
    except redis.RedisError:
        return None
    if not isinstance(stored, bytes) or b"\n" not in stored:
        return None
    head, data = stored.split(b"\n", 1)
    try:
        version = str(orjson.loads(head).get("version", ""))
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return version, data
