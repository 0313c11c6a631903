"""Events files as the ingest may read them: no symlinks, regular files only, lines capped, rotations found."""

from __future__ import annotations

import errno
import hashlib
import os
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from execution.contract.folder import ENGINES_DIR, EngineFolder

READ_CHUNK = 1 << 20
BOM = b"\xef\xbb\xbf"
EXCERPT_BYTES = 1024


class RefusedFile(OSError):
    """An events path the ingest will not read (not a regular file, a symlink, outside the root...)."""


def open_regular(path: Path, *, flags: int = os.O_RDONLY) -> int:
    """A descriptor of `path`, opened without following a symlink and only when it is a regular file."""
    # O_NONBLOCK: opening a FIFO someone put in place of the file must not hang the ingest.
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedFile(errno.ELOOP, "a symlink (not followed)", str(path)) from None
        raise
    info = os.fstat(fd)
    if not stat_module.S_ISREG(info.st_mode):
        os.close(fd)
        raise RefusedFile(errno.EINVAL, "not a regular file", str(path))
    return fd


def first_line_hash(fd: int) -> str:
    """SHA-256 of the file's first complete line ('' while there is none): part of the file's identity."""
    head = os.pread(fd, 1 << 16, 0)
    end = head.find(b"\n")
    if end < 0:
        return ""
    return hashlib.sha256(head[: end + 1]).hexdigest()


def refusal_reason(exc: OSError) -> str:
    """A short, stable reason for the engines panel and the logs."""
    if isinstance(exc, RefusedFile):
        return str(exc.strerror)
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    return f"unreadable ({errno.errorcode.get(exc.errno or 0, 'error')})"


def scanned_events_files(root: Path | None = None) -> list[Path]:
    """Every `engines/<mode>/events.jsonl` under the execution root, named lexically (never resolved)."""
    root = Path(root or settings.TRADEDESK_EXECUTION_ROOT)
    engines = root / ENGINES_DIR
    try:
        modes = sorted(entry.name for entry in os.scandir(engines))
    except OSError:
        return []
    return [EngineFolder(engines / mode).events for mode in modes]


def check_under_root(path: Path, root: Path | None = None) -> None:
    """RefusedFile when the folder of a scanned file resolves outside the execution root (a symlinked folder)."""
    real_root = Path(root or settings.TRADEDESK_EXECUTION_ROOT).resolve()
    try:
        folder = path.parent.resolve(strict=True)
    except (OSError, RuntimeError):
        raise RefusedFile(errno.ELOOP, "a folder that cannot be resolved", str(path)) from None
    if not folder.is_relative_to(real_root):
        raise RefusedFile(errno.EXDEV, "outside the execution root", str(path))


def rotated_sibling(path: Path, *, device: int, inode: int) -> Path | None:
    """The rotated `<name>.<suffix>` file next to `path` that is still the inode the cursor was reading."""
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return None
    prefix = path.name + "."
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat_module.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) == (device, inode):
            return Path(entry.path)
    return None


@dataclass
class BadRaw:
    """A line refused before parsing (longer than the cap): where it started and its first bytes."""

    offset: int
    reason: str
    excerpt: bytes


@dataclass
class LineChunk:
    """Complete lines read from `start`: each line's end offset, lines over the cap, and where reading stopped."""

    lines: list[bytes] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    too_long: list[tuple[int, BadRaw]] = field(default_factory=list)  # (index in lines, the bad line)
    offset: int = 0
    discarding: bool = False  # stopped inside an over-cap line: the next read skips to its newline


def read_lines(
    fd: int, start: int, *, max_lines: int, max_line_bytes: int, discarding: bool = False
) -> LineChunk:
    """Up to max_lines complete lines from `start`; an over-cap line is skipped without being held whole."""
    # pread: no shared file position between the ingest loop and anyone else holding the descriptor.
    chunk = LineChunk(offset=start, discarding=discarding)
    position = start
    buffer = b""
    line_start = start
    head = b""  # the first bytes of a line being discarded, for its excerpt
    while len(chunk.lines) < max_lines:
        data = os.pread(fd, READ_CHUNK, position)
        if not data:
            break
        position += len(data)
        cursor = 0
        while cursor < len(data) and len(chunk.lines) < max_lines:
            newline = data.find(b"\n", cursor)
            if chunk.discarding:
                if newline < 0:
                    if len(head) < EXCERPT_BYTES:
                        head += data[cursor : cursor + EXCERPT_BYTES - len(head)]
                    cursor = len(data)
                    chunk.offset = position  # a torn over-cap line is never read again
                    continue
                if len(head) < EXCERPT_BYTES:
                    head += data[cursor : min(newline, cursor + EXCERPT_BYTES - len(head))]
                bad = BadRaw(
                    offset=line_start, reason=f"line longer than {max_line_bytes} bytes", excerpt=head
                )
                chunk.too_long.append((len(chunk.lines), bad))
                cursor = newline + 1
                chunk.offset = position - len(data) + cursor
                line_start = chunk.offset
                chunk.discarding, head = False, b""
                continue
            if newline < 0:
                buffer += data[cursor:]
                cursor = len(data)
                if len(buffer) > max_line_bytes:
                    chunk.discarding, head, buffer = True, buffer[:EXCERPT_BYTES], b""
                    chunk.offset = position
                continue
            part = buffer + data[cursor:newline]
            buffer = b""
            cursor = newline + 1
            end = position - len(data) + cursor
            if len(part) > max_line_bytes:
                bad = BadRaw(
                    offset=line_start,
                    reason=f"line longer than {max_line_bytes} bytes",
                    excerpt=part[:EXCERPT_BYTES],
                )
                chunk.too_long.append((len(chunk.lines), bad))
            else:
                if line_start == 0 and part.startswith(BOM):
                    part = part[len(BOM) :]
                chunk.lines.append(part[:-1] if part.endswith(b"\r") else part)
                chunk.ends.append(end)
            chunk.offset = end
            line_start = end
        if len(chunk.lines) >= max_lines:
            break
    return chunk


def events_file_problems() -> dict[str, str]:
    """Why each engine's events file would be skipped now (mode -> reason), for the engines panel."""
    problems: dict[str, str] = {}
    for file_path in scanned_events_files():
        try:
            check_under_root(file_path)
            os.close(open_regular(file_path))
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems[file_path.parent.name] = refusal_reason(exc)
    return problems
