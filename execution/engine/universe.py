"""The simulator's symbol universe (TRADEDESK_SIM_UNIVERSE_FILE), read where the simulator reads it and cached by
the file's stat: the ticket offers these symbols while a trader types one."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from django.conf import settings

from execution.simulator import universe_load

logger = logging.getLogger("execution.engine.universe")

_cache: dict[str, tuple[tuple[int, int, int], frozenset[str]]] = {}
_cache_lock = threading.Lock()


def universe_symbols() -> frozenset[str]:
    """The symbols of the universe file; empty (and logged) when it is missing or lists none."""
    path = Path(settings.TRADEDESK_SIM_UNIVERSE_FILE)
    try:
        stat = os.stat(path)
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with _cache_lock:
            cached = _cache.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1]
        symbols = universe_load(path)
    except (OSError, ValueError) as exc:
        logger.warning("universe file %s unreadable: %s", path, exc)
        return frozenset()
    with _cache_lock:
        _cache[str(path)] = (key, symbols)
    return symbols
