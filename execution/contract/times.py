"""The contract's one time format: UTC, ISO 8601, milliseconds, a trailing Z (`2026-01-02T03:04:05.678Z`).

Event lines, intents, prices snapshots, the supervisor's records and the simulator's log all write it; the
LEAN algorithm keeps a copy (`utc_iso`: LEAN loads that file alone) that tests/execution/contract/test_times.py
holds to this one."""

from __future__ import annotations

from datetime import UTC, datetime


def contract_time(moment: datetime | None = None) -> str:
    """`moment` (now when None; a naive one is UTC) in the contract's format."""
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
