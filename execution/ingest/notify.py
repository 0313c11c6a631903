"""Linux inotify read straight from its file descriptor, for the ingest watcher: a select on it returns the
moment an engine's folder changes (watchfiles returns only after its next 2 ms steps, ~3 ms, and wakes every
step while idle). The engines' folder and each engine's folder are watched, a new engine's folder as it
appears; nothing deeper (intents, logs of runs) can hold an events file or a snapshot."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

# <sys/inotify.h>. A line appended (IN_MODIFY, on every write: LEAN's writer keeps its file open, the
# simulator's is closed after each line, and its close would only be a second wake-up), a file renamed in (a
# snapshot's temp file) or created (a rotation's new events file, a new engine's folder).
IN_MODIFY = 0x00000002
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ISDIR = 0x40000000
MASK = IN_MODIFY | IN_MOVED_TO | IN_CREATE
# struct inotify_event: int wd; uint32_t mask, cookie, len; then len bytes of NUL-padded name.
_EVENT = struct.Struct("iIII")


class FolderNotify:
    """inotify watches of `folder` and of each folder in it; `changed()` reads what happened since."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd: int = fd
        self._paths: dict[int, Path] = {}
        try:
            self._watch(folder)
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    self._watch(Path(entry.path))
        except OSError:
            self.close()
            raise

    def _watch(self, path: Path) -> None:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), MASK)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch on {path} failed")
        self._paths[wd] = path

    def changed(self) -> tuple[set[str], bool]:
        """The paths changed since the last call, and whether the queue overflowed (anything may have)."""
        paths: set[str] = set()
        overflow = False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return paths, overflow
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                if mask & IN_Q_OVERFLOW:
                    overflow = True
                    continue
                if mask & IN_IGNORED:  # its folder is gone
                    self._paths.pop(wd, None)
                    continue
                folder = self._paths.get(wd)
                if folder is None:
                    continue
                path = folder / os.fsdecode(name)
                if mask & IN_ISDIR and folder == self.folder:
                    try:  # a new engine's folder: watched from now on (what it holds already is read now)
                        self._watch(path)
                    except OSError:
                        continue
                paths.add(str(path))

    def close(self) -> None:
        """Stop watching (the descriptor is closed)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
