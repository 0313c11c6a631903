"""`manage.py ingest_watch`: the engine host's ingest watcher (Procfile `ingest`, tradedesk-ingest.service)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from execution.actions import ingest_watch


class Command(BaseCommand):
    """Ingest the engines' events files the moment they grow, until SIGTERM or SIGINT."""

    help = (
        "Watch the engines' folders (inotify; watchfiles off Linux; else a stat poll every 50 ms) and ingest "
        "every events file to its end on each change. Run one per engine host; beat stays the safety net."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--poll: the stat poll even where inotify works."""
        parser.add_argument("--poll", action="store_true", help="poll with stat instead of inotify")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run until a signal sets the stop event."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        wakeups = ingest_watch(stop=stop, inotify=not options["poll"])
        self.stdout.write(f"ingest watcher stopped after {wakeups} wake-ups")
