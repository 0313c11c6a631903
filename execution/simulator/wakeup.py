"""The simulator's wait between two steps of its loop: it ends at once when a command file lands in the
working directory (Linux inotify: a select on its descriptor, execution/contract/notify.py), else at the next
due moment (a fill, a holdings or prices line), and at the latest after the poll interval, the fallback that
also serves where inotify is unavailable (then the wait is a plain sleep, as before)."""

from __future__ import annotations

import errno
import fnmatch
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path

from execution.contract.folder import COMMAND_PATTERN
from execution.contract.notify import FolderNotify, flags
from execution.simulator.common import warn

# A file closed after writing (a writer that names it command-*.json at once, as LEAN's own clients may) or
# renamed into the folder (tradedesk: a hidden temp file, then its rename).
COMMAND_MASK = flags.CLOSE_WRITE | flags.MOVED_TO
# A signal's stop flag is looked at least this often while a long wait blocks (the handler only sets it).
STOP_CHECK_SECONDS = 0.1


def _commands(notify: FolderNotify) -> bool:
    """Read every queued event; True when one names a command file (or the queue overflowed)."""
    paths, overflow = notify.changed()
    return overflow or any(fnmatch.fnmatchcase(Path(path).name, COMMAND_PATTERN) for path in paths)


class Wakeup:
    """Waits for a command file in `folder`, a due moment or the poll interval, whichever comes first."""

    def __init__(self, folder: Path, *, inotify: bool = True, stopping: Callable[[], bool] = lambda: False):
        self.folder = folder
        self._stopping = stopping
        self._notify: FolderNotify | None = None
        if inotify:
            self._notify = self._open(folder)

    @staticmethod
    def _open(folder: Path) -> FolderNotify | None:
        if not sys.platform.startswith("linux"):
            warn("inotify is Linux's; command files are seen at the next poll")
            return None
        try:
            return FolderNotify(folder, mask=COMMAND_MASK)
        except (
            OSError,
            AttributeError,
        ) as exc:  # inotify limits, a folder gone, no libc: polling still works
            warn(f"inotify unavailable ({exc}); command files are seen at the next poll")
            return None

    @property
    def watching(self) -> bool:
        """Whether command files wake the loop (else it sleeps until the due moment or the poll)."""
        return self._notify is not None

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; True when a command file landed meanwhile (or may have: an overflow)."""
        deadline = time.monotonic() + max(0.0, seconds)
        if self._notify is None:
            time.sleep(max(0.0, seconds))
            return False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self._stopping():
                return False
            try:
                ready, _, _ = select.select([self._notify.fd], [], [], min(left, STOP_CHECK_SECONDS))
                # Its own writes (events, snapshots, results) land here too: only a command ends the wait early.
                if ready and _commands(self._notify):
                    return True
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                warn(f"inotify failed ({exc}); command files are seen at the next poll")
                self.close()
                time.sleep(max(0.0, deadline - time.monotonic()))
                return False

    def close(self) -> None:
        """Stop watching (the descriptor is closed)."""
        if self._notify is not None:
            notify, self._notify = self._notify, None
            notify.close()
