"""The push door: what the pages' stream process needs of execution/push.py (Redis pub/sub of committed
changes and snapshots), and the change token it watches where there is no Redis. The token and the
versions read the ingested snapshots and the engine's state, so they live here, above ingest and engine
(execution/push.py stays below ingest: the snapshot readers read its published copies)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Sum

from execution.contract.folder import ENGINES_DIR
from execution.engine.state import engine_state
from execution.ingest.account import account_snapshot
from execution.ingest.prices import prices_snapshot
from execution.push import SNAPSHOT_NAMES, push_channel, push_enabled, snapshots_publish, stat_key
from orders.models import ProjectVersion
from orders.services import access_version

__all__ = [
    "account_version",
    "change_token",
    "prices_version",
    "push_channel",
    "push_enabled",
    "snapshots_publish",
]


def change_token() -> tuple[int, tuple[Any, ...]]:
    """(the access counter, everything the pages show that can change) as cheap values (one row, one
    aggregate over the small counters table, a stat per local snapshot file): what a stream process compares
    every few tens of milliseconds where nothing is published (no Redis), and now and then where something
    is (a message lost)."""
    row = ProjectVersion.objects.aggregate(
        n=Count("pk"), o=Sum("orders"), p=Sum("positions"), at=Max("changed_at")
    )
    files: list[tuple[str, tuple[int, int, int, int]]] = []
    if settings.TRADEDESK_ENGINE_FILES_LOCAL:
        engines = Path(settings.TRADEDESK_EXECUTION_ROOT) / ENGINES_DIR
        for name in SNAPSHOT_NAMES:
            for path in sorted(engines.glob(f"*/{name}.json")):
                try:
                    files.append((str(path), stat_key(os.stat(path, follow_symlinks=False))))
                except OSError:
                    continue
    return (access_version(), (row["n"], row["o"], row["p"], row["at"], tuple(files)))


def prices_version(mode: str) -> str:
    """What the page's prices show of the mode's snapshot: its version and whether it is stale."""
    snapshot = prices_snapshot(mode)
    return f"{snapshot.version}:{int(snapshot.is_stale())}" if snapshot is not None else ""


def account_version(mode: str) -> str:
    """What the page's account strip shows of the mode: its snapshot's version, staleness, the engine's state."""
    snapshot = account_snapshot(mode)
    seen = f"{snapshot.version}:{int(snapshot.is_stale())}" if snapshot is not None else ""
    return f"{seen}:{engine_state(mode).state}"
