"""The next chunk of an events file, read and parsed in a thread while the database works on the current one.

Parsing is pure (bytes in, events out) and the ingest's thread waits on the server most of a chunk's time, so
the next chunk's parse can run then on the other core. Nothing here touches the database: the drain uses the
result only when its cursor, read again under the row lock's rules, stands where the read-ahead started;
otherwise the lines are read and parsed again as before.
"""

from __future__ import annotations

import logging
import threading

from execution.ingest.collector import collector_paused
from execution.ingest.files import LineChunk, read_lines
from execution.ingest.lines import ParsedBatch, parse_lines

logger = logging.getLogger("execution.ingest.events")


class ReadAhead:
    """One chunk from `start`, read and parsed in a thread; `take` joins it and hands it over when it fits."""

    def __init__(
        self, fd: int, *, start: int, discarding: bool, max_lines: int, max_line_bytes: int, source: str
    ) -> None:
        self.start, self.discarding, self.max_lines = start, discarding, max_lines
        self.chunk: LineChunk | None = None
        self.parsed: ParsedBatch | None = None
        self._thread = threading.Thread(
            target=self._run, args=(fd, max_line_bytes, source), name="ingest-read-ahead", daemon=True
        )
        self._thread.start()

    def _run(self, fd: int, max_line_bytes: int, source: str) -> None:
        try:
            # Counted with the drain's own pause: no collection while either thread allocates a chunk.
            with collector_paused():
                chunk = read_lines(
                    fd,
                    self.start,
                    max_lines=self.max_lines,
                    max_line_bytes=max_line_bytes,
                    discarding=self.discarding,
                )
                # A short chunk is the file's end: read again then (it may have grown), nothing gained here.
                if len(chunk.lines) == self.max_lines:
                    self.chunk, self.parsed = chunk, parse_lines(chunk.lines, source=source)
        except Exception:  # the drain reads and parses these lines itself, and meets the error there
            logger.debug("read-ahead failed; the lines are read again", exc_info=True)

    def join(self) -> None:
        """Wait for the thread (before the file descriptor is closed)."""
        self._thread.join()

    def take(self, *, start: int, discarding: bool) -> tuple[LineChunk, ParsedBatch] | None:
        """The chunk and its parse if they start where the cursor now stands, else None (read again)."""
        self._thread.join()
        if self.chunk is None or self.parsed is None or (start, discarding) != (self.start, self.discarding):
            return None
        return self.chunk, self.parsed
