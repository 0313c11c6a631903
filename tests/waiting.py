"""Polling helper for tests that wait on other processes."""

from __future__ import annotations

import time
from typing import Any


def wait_for(predicate: Any, timeout: float, interval: float = 0.1) -> Any:
    """Call predicate until it returns something truthy or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
