"""The simulator's wait between two steps of its loop: it ends at once when a command file lands in the
working directory (Linux inotify, read straight from its file descriptor), else at the next due moment (a
fill, a holdings or prices line), and at the latest after the poll interval, the fallback that also serves
where inotify is unavailable (then the wait is a plain sleep, as before)."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fnmatch
import os
import select
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

from execution.contract.folder import COMMAND_PATTERN
from execution.simulator.common import warn

# <sys/inotify.h>: a file closed after writing (a writer that names it command-*.json at once, as LEAN's own
# clients may) or renamed into the folder (tradedesk: a hidden temp file, then its rename).
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
# struct inotify_event: int wd; uint32_t mask, cookie, len; then len bytes of NUL-padded name.
_EVENT = struct.Struct("iIII")
# A signal's stop flag is looked at least this often while a long wait blocks (the handler only sets it).
STOP_CHECK_SECONDS = 0.1


class _Inotify:
    """One inotify watch of a folder for files renamed in or closed after writing."""

    def __init__(self, folder: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if libc.inotify_add_watch(fd, os.fsencode(folder), IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
            error = ctypes.get_errno()
            os.close(fd)
            raise OSError(error, f"inotify_add_watch on {folder} failed")
        self.fd = fd

    def commands(self) -> bool:
        """Read every queued event; True when one names a command file (or the queue overflowed)."""
        found = False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return found
            offset = 0
            while offset + _EVENT.size <= len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                if mask & IN_Q_OVERFLOW or fnmatch.fnmatchcase(os.fsdecode(name), COMMAND_PATTERN):
                    found = True

    def close(self) -> None:
        os.close(self.fd)


class Wakeup:
    """Waits for a command file in `folder`, a due moment or the poll interval, whichever comes first."""

    def __init__(self, folder: Path, *, inotify: bool = True, stopping: Callable[[], bool] = lambda: False):
        self.folder = folder
        self._stopping = stopping
        self._notify: _Inotify | None = None
        if inotify:
            self._notify = self._open(folder)

    @staticmethod
    def _open(folder: Path) -> _Inotify | None:
        if not sys.platform.startswith("linux"):
            warn("inotify is Linux's; command files are seen at the next poll")
            return None
        try:
            return _Inotify(folder)
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
                if ready and self._notify.commands():
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
