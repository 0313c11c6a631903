"""`manage.py events_rotate --mode MODE [--stop]`: ingest the events file to its end and archive it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from execution.actions import EngineError, events_file_rotate
from execution.selectors import MODES


class Command(BaseCommand):
    """Rotate a mode's events.jsonl safely."""

    help = (
        "Stop-checked rotation of <engine folder>/events.jsonl: refuses while the engine runs (unless --stop), "
        "ingests every line, then renames it into events-archive/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--mode, --stop."""
        parser.add_argument("--mode", required=True, choices=MODES)
        parser.add_argument("--stop", action="store_true", help="stop the running engine first")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the archive's path."""
        try:
            archive = events_file_rotate(mode=options["mode"], stop=options["stop"])
        except EngineError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(archive))
