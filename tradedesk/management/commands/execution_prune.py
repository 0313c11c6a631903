"""`manage.py execution_prune [--days N]`: delete old engine files of finished orders (beat does it hourly)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from execution.actions import execution_files_prune


class Command(BaseCommand):
    """Prune intents, command results and run records nothing needs any more."""

    help = "Delete intents, command results and run records of finished orders older than the retention."

    def add_arguments(self, parser: CommandParser) -> None:
        """--days overrides TRADEDESK_RETENTION_DAYS."""
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        """Print what was deleted as JSON."""
        report = execution_files_prune(retention_days=options["days"])
        self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
