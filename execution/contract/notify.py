"""Linux inotify on a folder through inotify_simple: a descriptor the engine processes and the ingest watcher
select on, so a file's change wakes them the moment it happens (watchfiles answers only after its next steps,
~3 ms, and wakes every step while idle). With `subfolders`, each folder in it is watched too, a new one as it
appears (the engines' folders); nothing deeper."""

from __future__ import annotations

import os
from pathlib import Path

from inotify_simple import INotify, flags

__all__ = ["FolderNotify", "flags"]


class FolderNotify:
    """inotify watches of `folder` (and of each folder in it with `subfolders`); `changed()` reads what changed.

    Off Linux (no inotify in the C library) or past the inotify limits the constructor raises OSError or
    AttributeError: the callers then fall back to watchfiles or a poll."""

    def __init__(self, folder: Path, *, mask: int, subfolders: bool = False) -> None:
        self.folder = folder
        self._mask = mask
        self._subfolders = subfolders
        self._inotify = INotify(nonblocking=True)
        self.fd: int = self._inotify.fileno()
        self._paths: dict[int, Path] = {}
        try:
            self._watch(folder)
            if subfolders:
                for entry in os.scandir(folder):
                    if entry.is_dir(follow_symlinks=False):
                        self._watch(Path(entry.path))
        except OSError:
            self.close()
            raise

    def _watch(self, path: Path) -> None:
        mask = self._mask | (flags.CREATE if self._subfolders and path == self.folder else 0)
        self._paths[self._inotify.add_watch(path, mask)] = path

    def changed(self) -> tuple[set[str], bool]:
        """The paths changed since the last call, and whether the queue overflowed (anything may have)."""
        paths: set[str] = set()
        overflow = False
        for event in self._inotify.read(timeout=0):
            if event.mask & flags.Q_OVERFLOW:
                overflow = True
                continue
            if event.mask & flags.IGNORED:  # its folder is gone
                self._paths.pop(event.wd, None)
                continue
            folder = self._paths.get(event.wd)
            if folder is None:
                continue
            path = folder / event.name
            if self._subfolders and event.mask & flags.ISDIR and folder == self.folder:
                try:  # a new folder: watched from now on (what it holds already is the caller's to read now)
                    self._watch(path)
                except OSError:
                    continue
            paths.add(str(path))
        return paths, overflow

    def close(self) -> None:
        """Stop watching (the descriptor is closed)."""
        if not self._inotify.closed:
            self._inotify.close()
        self.fd = -1
