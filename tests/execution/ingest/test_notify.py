"""The watcher's inotify wake-ups (read from inotify's descriptor): an events line, a snapshot, a rotation and a
new engine's folder wake it; the engines' other files never do."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from execution.contract.notify import FolderNotify
from execution.ingest import watcher

pytestmark = pytest.mark.skipif(not watcher.sys.platform.startswith("linux"), reason="Linux inotify")


class Wakeups:
    """folder_wakeups of `root` in a thread; each non-empty wake-up's paths on a queue."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stop = threading.Event()
        self.seen: queue.Queue[set[str]] = queue.Queue()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for paths in watcher.folder_wakeups(stop=self.stop, root=self.root):
            self.started.set()
            if paths:
                self.seen.put(paths)

    def until(self, path: Path) -> set[str]:
        """Every path of the wake-ups up to the one naming `path` (a file created and written wakes it twice)."""
        seen: set[str] = set()
        while str(path) not in seen:
            seen |= self.seen.get(timeout=10)
        return seen

    def quiet(self) -> bool:
        """Nothing woke the watcher for a while (long against the microseconds an inotify event takes)."""
        try:
            self.seen.get(timeout=0.3)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def engines(tmp_path: Path) -> Path:
    folder = tmp_path / "engines"
    (folder / "paper").mkdir(parents=True)
    return folder


@pytest.fixture
def wakeups(engines: Path) -> Iterator[Wakeups]:
    running = Wakeups(engines.parent)
    running.thread.start()
    assert running.started.wait(10)
    yield running
    running.stop.set()
    running.thread.join(10)
    assert not running.thread.is_alive()


def append(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text)


def test_the_inotify_descriptor_is_used_on_linux(engines: Path) -> None:
    notify = FolderNotify(engines, mask=watcher.WATCH_MASK, subfolders=True)
    try:
        assert notify.fd >= 0
        append(engines / "paper" / "events.jsonl", "{}\n")
        paths, overflow = notify.changed()
        assert str(engines / "paper" / "events.jsonl") in paths and not overflow
    finally:
        notify.close()


def test_an_events_line_wakes_the_watcher_and_the_engines_other_files_do_not(
    engines: Path, wakeups: Wakeups
) -> None:
    paper = engines / "paper"
    append(paper / "engine.log", "a log line\n")
    append(paper / "command-5d3c.json", "{}")
    (paper / ".prices.json.4242.tmp").write_text("{}")
    assert wakeups.quiet()
    append(paper / "events.jsonl", '{"tag": "w-1"}\n')
    assert wakeups.until(paper / "events.jsonl") == {str(paper / "events.jsonl")}
    # A snapshot is replaced by a rename of its temp file.
    (paper / ".prices.json.4242.tmp").rename(paper / "prices.json")
    assert wakeups.until(paper / "prices.json") <= {str(paper / "events.jsonl"), str(paper / "prices.json")}


def test_a_rotation_and_a_new_engine_folder_wake_the_watcher(engines: Path, wakeups: Wakeups) -> None:
    paper, live = engines / "paper", engines / "live"
    append(paper / "events.jsonl", "{}\n")
    assert wakeups.until(paper / "events.jsonl") == {str(paper / "events.jsonl")}
    (paper / "events.jsonl").rename(paper / "events.jsonl.20261207")
    assert wakeups.until(paper / "events.jsonl.20261207") <= {
        str(paper / "events.jsonl"), str(paper / "events.jsonl.20261207")
    }  # fmt: skip
    append(paper / "events.jsonl", "{}\n")
    wakeups.until(paper / "events.jsonl")
    # A new engine's folder wakes it (what was written before its watch is read then), then its lines do.
    live.mkdir()
    assert wakeups.until(live) <= {str(paper / "events.jsonl"), str(live)}
    append(live / "events.jsonl", "{}\n")
    assert wakeups.until(live / "events.jsonl") <= {str(live), str(live / "events.jsonl")}
