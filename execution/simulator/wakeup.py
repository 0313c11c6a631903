"""The simulator's wait between two steps of its loop: it ends at once when a command file lands in the
working directory (inotify through watchfiles, as the ingest watcher), else at the next due moment (a fill,
a holdings or prices line), and at the latest after the poll interval, the fallback that also serves where
watchfiles or inotify is unavailable (then the wait is a plain sleep, as before)."""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from execution.contract.folder import COMMAND_PATTERN
from execution.simulator.common import warn

# watchfiles looks at what inotify collected this often while it waits: a command is seen within about two
# steps (~3 ms). A step is a short GIL hold, ~1 % of a core while idle (a 20 ms poll alone costs about as much).
STEP_MS = 2
# Changes arriving together (tradedesk's hidden temp file, then its rename) are returned together.
DEBOUNCE_MS = 5


class _StopFlag:
    """What watchfiles checks at every step: the loop's stop request (a signal) ends the wait at once."""

    def __init__(self, stopping: Callable[[], bool]) -> None:
        self._stopping = stopping

    def is_set(self) -> bool:
        return self._stopping()


class Wakeup:
    """Waits for a command file in `folder`, a due moment or the poll interval, whichever comes first."""

    def __init__(self, folder: Path, *, inotify: bool = True, stopping: Callable[[], bool] = lambda: False):
        self.folder = folder
        self._stop = _StopFlag(stopping)
        self._notify: Any = None
        if inotify:
            self._notify = self._open(folder)

    @staticmethod
    def _open(folder: Path) -> Any:
        try:
            # RustNotify is what watchfiles.watch() wraps; it is used directly because each wait here has its
            # own timeout (the next fill's due moment), where watch() fixes one for the generator's life.
            from watchfiles._rust_notify import RustNotify
        except ImportError:
            warn("watchfiles is not installed; command files are seen at the next poll")
            return None
        try:
            return RustNotify([str(folder)], False, False, 50, False, False)
        except (OSError, RuntimeError) as exc:  # inotify limits, a folder gone: polling still works
            warn(f"inotify unavailable ({exc}); command files are seen at the next poll")
            return None

    @property
    def watching(self) -> bool:
        """Whether command files wake the loop (else it sleeps until the due moment or the poll)."""
        return self._notify is not None

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; True when a command file landed meanwhile (or may have: unknown changes)."""
        deadline = time.monotonic() + max(0.0, seconds)
        if self._notify is None:
            time.sleep(max(0.0, seconds))
            return False
        while True:
            left = deadline - time.monotonic()
            if left < 0.001:  # watchfiles counts whole milliseconds (0 would be forever): sleep the rest
                time.sleep(max(0.0, left))
                return False
            try:
                changes = self._notify.watch(DEBOUNCE_MS, STEP_MS, int(left * 1000), self._stop)
            except (OSError, RuntimeError) as exc:
                warn(f"inotify failed ({exc}); command files are seen at the next poll")
                self.close()
                time.sleep(max(0.0, deadline - time.monotonic()))
                return False
            if not isinstance(changes, set):
                return False  # "timeout", or "stop"/"signal": the loop looks at its stop flag
            # Its own writes (events, snapshots, results) land here too: only a command ends the wait early.
            if any(fnmatch.fnmatchcase(os.path.basename(path), COMMAND_PATTERN) for _c, path in changes):
                return True

    def close(self) -> None:
        """Stop watching (the watch thread ends)."""
        if self._notify is not None:
            notify, self._notify = self._notify, None
            notify.close()
