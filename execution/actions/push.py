"""The push door: what the pages' stream process needs of execution/push.py (Redis pub/sub of committed
changes and snapshots, and the change token it watches where there is no Redis)."""

from execution.push import (
    account_version,
    change_token,
    prices_version,
    push_channel,
    push_enabled,
    snapshots_publish,
)

__all__ = [
    "account_version",
    "change_token",
    "prices_version",
    "push_channel",
    "push_enabled",
    "snapshots_publish",
]
