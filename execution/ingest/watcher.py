"""Wake-ups of the ingest watcher: the engines' folders changed (inotify through watchfiles), or a short stat
poll where watchfiles is missing or inotify cannot be used. The watcher drains on every wake-up; the ingest's
own stat per file says whether anything grew, so a wake-up for another file costs one stat."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from execution.contract.folder import ENGINES_DIR

logger = logging.getLogger("execution.ingest.watcher")

# watchfiles yields once no change came for STEP ms, and at the latest DEBOUNCE ms after the first one: an
# engine writing lines back to back is drained every few tens of milliseconds, a single line within ~5 ms.
STEP_MS = 5
DEBOUNCE_MS = 25
# With no change for this long the watcher wakes anyway (a missed event, a folder made after the start).
IDLE_WAKE_MS = 1000
# The fallback: one stat per events file this often.
POLL_SECONDS = 0.05


def engines_folder(root: Path | None = None) -> Path:
    """The folder holding every engine's folder (made when missing, so it can be watched from the start)."""
    folder = Path(root or settings.TRADEDESK_EXECUTION_ROOT) / ENGINES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def folder_wakeups(
    *, stop: threading.Event, inotify: bool = True, root: Path | None = None
) -> Iterator[set[str]]:
    """Yield the changed paths (empty on an idle or poll wake-up) until `stop` is set."""
    folder = engines_folder(root)
    if inotify:
        try:
            import watchfiles  # optional: without it the watcher polls (below)
        except ImportError:
            logger.warning(
                "watchfiles is not installed; the ingest watcher polls", extra={"every_s": POLL_SECONDS}
            )
        else:
            try:
                for changes in watchfiles.watch(
                    folder,
                    watch_filter=None,
                    step=STEP_MS,
                    debounce=DEBOUNCE_MS,
                    rust_timeout=IDLE_WAKE_MS,
                    yield_on_timeout=True,
                    stop_event=stop,
                    raise_interrupt=False,
                ):
                    yield {path for _change, path in changes}
                return
            except (OSError, RuntimeError) as exc:  # inotify limits, a folder gone: polling still works
                logger.warning("inotify unavailable; the ingest watcher polls", extra={"error": str(exc)})
    while not stop.is_set():
        yield set()
        stop.wait(POLL_SECONDS)
