"""Python's cyclic garbage collector paused while a chunk of events is parsed and applied.

A chunk allocates tens of thousands of decoded lines, events and rows that reference counting frees and no
cycle holds; the collector still walks them and, every few hundred allocations, everything the process has
loaded: a quarter of a cold catch-up's Python CPU (bench/ingest.py, 100,000 lines: ~1 s in ~1,300
collections). The pause is process-wide, so it is counted: the collector runs again when the last chunk in
any thread is done (within the ingest's transaction budget), and collects whatever cycles were left meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_enable_after = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (nor in other threads meanwhile); as before after the last block."""
    global _holders, _enable_after
    with _lock:
        if _holders == 0:
            _enable_after = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _enable_after:
                gc.enable()
