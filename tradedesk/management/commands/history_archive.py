"""`manage.py history_archive [--keep-months N | --before YYYY-MM]`: move old months of engine events and
audit entries into the archive tables (orders/services/archive.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.doors import history_archive, month_start


class Command(BaseCommand):
    """Archive whole months of the events table (closed orders' events) and of the audit log."""

    help = (
        "Move the engine events of closed orders and the audit entries of every whole month older than the "
        "months kept (TRADEDESK_HISTORY_KEEP_MONTHS, or --before) into the archive tables."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--keep-months overrides TRADEDESK_HISTORY_KEEP_MONTHS; --before names the first month kept."""
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--keep-months", type=int, default=None)
        group.add_argument("--before", default=None, help="YYYY-MM: archive every month before this one")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print what moved as JSON."""
        if options["before"] is not None:
            match = re.fullmatch(r"(\d{4})-(\d{2})", options["before"])
            if match is None or not 1 <= int(match[2]) <= 12:
                raise CommandError("--before is a month: YYYY-MM")
            before = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
        else:
            keep = options["keep_months"]
            keep = settings.TRADEDESK_HISTORY_KEEP_MONTHS if keep is None else keep
            if keep < 0:
                raise CommandError("--keep-months is 0 or more")
            before = month_start(keep_months=keep)
        report = history_archive(before=before)
        self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
