"""The events file on disk: one JSON line a single unbuffered write, never through a symlink, a torn line closed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

# The engine folder's names (execution/contract/folder.py; LEAN loads the algorithm alone, so it keeps a copy
# that tests/execution/contract/test_folder.py holds to the contract's).
EVENTS_FILE = "events.jsonl"

# The events file's line cap (TRADEDESK_EVENTS_MAX_LINE_BYTES), from the `max-line-bytes` launch parameter.
DEFAULT_MAX_LINE_BYTES = 1 << 20
MIN_MAX_LINE_BYTES = 1024


def line_cap(value: Any) -> int:
    """The `max-line-bytes` launch parameter: an integer of at least MIN_MAX_LINE_BYTES, else the default."""
    try:
        cap = int(str(value).strip())
    except ValueError:
        return DEFAULT_MAX_LINE_BYTES
    return cap if cap >= MIN_MAX_LINE_BYTES else DEFAULT_MAX_LINE_BYTES


def close_torn_line(path: Path) -> bool:
    """If the file's last byte is not a newline (a line torn by a crashed run), write one; True if it did."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            last = handle.read(1)
    except FileNotFoundError:
        return False
    if last == b"\n":
        return False
    with open_events_for_append(path) as handle:
        handle.write(b"\n")
        os.fsync(handle.fileno())
    return True


def open_events_for_append(path: Path) -> Any:
    """The events file for unbuffered appends: never through a symlink, only a regular file, owner-only."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file; not appending to it")
    return os.fdopen(fd, "ab", buffering=0)


def encode_line(payload: dict[str, Any]) -> bytes:
    """One JSON object and its newline (NaN and infinities are refused, never written)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"


def append_line(path: Path, payload: dict[str, Any], *, fsync: bool = True) -> None:
    """Append one line with a single unbuffered write (re-opened each time, so a replaced file is used)."""
    data = encode_line(payload)
    with open_events_for_append(path) as handle:
        written = handle.write(data) or 0
        while written < len(data):  # a short write is rare but possible
            written += handle.write(data[written:]) or 0
        if fsync:
            os.fsync(handle.fileno())
