"""Wake-ups of the ingest watcher: the engines' folders changed (Linux inotify read from its descriptor;
watchfiles elsewhere), or a short stat poll where neither can be used. The watcher drains on every wake-up;
the ingest's own stat per file says whether anything grew. Only the events files and the snapshots wake it."""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from execution.contract.folder import ENGINES_DIR, EVENTS_FILE
from execution.contract.notify import FolderNotify, flags
from execution.push import SNAPSHOT_NAMES

logger = logging.getLogger("execution.ingest.watcher")

# Where inotify cannot be read directly (not Linux): watchfiles yields once no change came for STEP ms, and at
# the latest DEBOUNCE ms after the first one: a single line is seen within ~3 ms (two steps), an engine writing
# back to back is drained every 10 ms. A step is a short GIL hold: ~1 % of a core while idle.
STEP_MS = 2
DEBOUNCE_MS = 10
SNAPSHOT_FILES = frozenset(f"{name}.json" for name in SNAPSHOT_NAMES)
# With no change for this long the watcher wakes anyway (a missed event, a folder made after the start).
IDLE_WAKE_MS = 1000
# A stop is seen at least this often while the inotify wait blocks.
STOP_CHECK_SECONDS = 0.1
# A line appended (on every write: LEAN's writer keeps its file open; a close after writing would only be a
# second wake-up), a file renamed in (a snapshot's temp file) or created (a rotation's new events file).
WATCH_MASK = flags.MODIFY | flags.MOVED_TO | flags.CREATE
# The fallback: one stat per events file this often.
POLL_SECONDS = 0.05


def wakes_the_watcher(path: str, *, folder: Path | None = None) -> bool:
    """Whether a change of `path` may need the watcher: an events file (or its rotated name), a snapshot, or
    an engine's folder itself in `folder` (a new mode: what was written in it before inotify watched it).

    Command, result and intent files, the engines' temp files and logs are written around every order; each
    would otherwise be a wake-up (and could be in progress when the fill's line lands)."""
    if folder is not None and os.path.dirname(path) == str(folder):
        return True
    name = os.path.basename(path)
    if name == EVENTS_FILE or name.startswith(EVENTS_FILE + "."):
        return True
    return name in SNAPSHOT_FILES


def engines_folder(root: Path | None = None) -> Path:
    """The folder holding every engine's folder (made when missing, so it can be watched from the start)."""
    folder = Path(root or settings.TRADEDESK_EXECUTION_ROOT) / ENGINES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _inotify_wakeups(notify: FolderNotify, *, stop: threading.Event) -> Iterator[set[str]]:
    """Yield at once when a file that may need the watcher changed (no settle step: the drain reads every
    complete line there is, and lines landing meanwhile are queued for the next select), else once a second."""
    folder = notify.folder
    yield set()  # what was written before the watches were added
    idle_until = time.monotonic() + IDLE_WAKE_MS / 1000
    while not stop.is_set():
        left = idle_until - time.monotonic()
        if left <= 0:
            yield set()
            idle_until = time.monotonic() + IDLE_WAKE_MS / 1000
            continue
        ready, _, _ = select.select([notify.fd], [], [], min(left, STOP_CHECK_SECONDS))
        if not ready:
            continue
        paths, overflow = notify.changed()
        wake = {path for path in paths if wakes_the_watcher(path, folder=folder)}
        if wake or overflow:
            yield wake
            idle_until = time.monotonic() + IDLE_WAKE_MS / 1000


def folder_wakeups(
    *, stop: threading.Event, inotify: bool = True, root: Path | None = None
) -> Iterator[set[str]]:
    """Yield the changed paths (empty on an idle or poll wake-up) until `stop` is set."""
    folder = engines_folder(root)
    if inotify and sys.platform.startswith("linux"):
        try:
            notify = FolderNotify(folder, mask=WATCH_MASK, subfolders=True)
        except (OSError, AttributeError) as exc:  # inotify limits, no libc: watchfiles or polling still work
            logger.warning("inotify unavailable; trying watchfiles", extra={"error": str(exc)})
        else:
            try:
                yield from _inotify_wakeups(notify, stop=stop)
            finally:
                notify.close()
            return
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
                    watch_filter=lambda _change, path: wakes_the_watcher(path, folder=folder),
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
