"""`manage.py var_clean [--force]`: what `make clean` runs; refuses while an engine runs or events are unread."""

from __future__ import annotations

import shutil
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from execution.selectors import var_clean_blockers


class Command(BaseCommand):
    """Delete the development var folder (SQLite, broker, engine folders) when nothing would be lost."""

    help = "Delete TRADEDESK_VAR_DIR unless an engine runs there or its events are not fully ingested."

    def add_arguments(self, parser: CommandParser) -> None:
        """--force skips the checks (never in production)."""
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        """Refuse with the reasons, or delete."""
        if settings.PRODUCTION:
            raise CommandError("var_clean never runs with TRADEDESK_ENV=production")
        blockers = [] if options["force"] else var_clean_blockers()
        if blockers:
            raise CommandError(
                "not deleting "
                + str(settings.VAR_DIR)
                + ":\n  "
                + "\n  ".join(blockers)
                + "\n(`manage.py engine stop --mode MODE`, `manage.py ingest_events`, or --force)"
            )
        shutil.rmtree(settings.VAR_DIR, ignore_errors=True)
        self.stdout.write(f"deleted {settings.VAR_DIR}")
