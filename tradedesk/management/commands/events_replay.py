"""`manage.py events_replay --mode MODE | PATH...`: after a database restore, read events files from the start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from execution.actions import events_files_for_replay, events_replay
from execution.selectors import MODES


class Command(BaseCommand):
    """Replay events files into a restored database (events it already has are skipped)."""

    help = "Reset the ingest cursors of events files and ingest them from the start (archives first)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--mode (its archives then events.jsonl) or explicit paths."""
        parser.add_argument("paths", nargs="*", type=Path)
        parser.add_argument("--mode", choices=MODES)

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the ingest report as JSON."""
        paths: list[Path] = list(options["paths"])
        if options["mode"]:
            paths += events_files_for_replay(mode=options["mode"])
        if not paths:
            raise CommandError("give --mode MODE or events file paths")
        report = events_replay(paths=paths)
        self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
