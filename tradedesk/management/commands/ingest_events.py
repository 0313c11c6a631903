"""`manage.py ingest_events [PATH]`: ingest new events now and print the report."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from execution.actions import ingest_execution_events


class Command(BaseCommand):
    """Ingest one events file, or every engine's."""

    help = "Ingest new lines of an events file (default: every engine's) and print what happened."

    def add_arguments(self, parser: CommandParser) -> None:
        """Optional PATH."""
        parser.add_argument("path", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the ingest and print its report as JSON."""
        report = ingest_execution_events(options["path"], force=True)
        self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
