"""The file helpers of the contract, shared by tradedesk, the supervisor and the simulator: one atomic JSON
write, one JSON read, one tail (the LEAN algorithm keeps its own: LEAN loads that file alone)."""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any


def write_json_atomic(
    path: Path, data: Any, *, mode: int | None = 0o600, indent: int | None = 2, fsync: bool = True
) -> Path:
    """Write JSON to a hidden temp file beside `path`, fsync it, then rename it over `path` (readers only ever
    see whole files). `mode` None leaves the file's mode to the umask (the engines' files, which the group may
    read under TRADEDESK_VAR_GROUP_ACCESS); `indent` None writes one line; `fsync` False skips the flush to
    disk (the rename alone keeps a crashed process's file whole; only a machine's crash can lose it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name that starts with "." and ends in ".tmp": LEAN's `command*.json` never matches it.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600 if mode is not None else 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            json.dump(data, handle, ensure_ascii=False, indent=indent)
            handle.write("\n")
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_json(path: Path) -> Any | None:
    """The JSON in `path`, or None when it is missing or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        # Only a regular file: a symlink (refused above), FIFO or device never stands in for engine output.
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, encoding="utf-8-sig", closefd=False) as handle:
            return json.load(handle)
    except (ValueError, OSError):
        return None
    finally:
        os.close(fd)


def tail_lines(path: Path, count: int = 20, *, max_bytes: int = 64 * 1024) -> list[str]:
    """The last `count` lines of a text file (reading at most max_bytes from its end)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except OSError:  # missing or unreadable: no lines to show
        return []
    return data.decode("utf-8", "replace").splitlines()[-count:]
