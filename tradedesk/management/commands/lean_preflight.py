"""`manage.py lean_preflight [--mode paper|live]`: what a live LEAN start on IB needs, ok or FAIL with the fix."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from execution.actions import run_preflight
from execution.selectors import MODES


class Command(BaseCommand):
    """Print each preflight check; exit non-zero when any fails."""

    help = "Check this host for a live LEAN engine on IB: dotnet, LEAN build, Python, data, IB Gateway, variables."

    def add_arguments(self, parser: CommandParser) -> None:
        """--mode (default paper)."""
        parser.add_argument("--mode", choices=MODES, default="paper")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the checks and print one line each."""
        checks = run_preflight(mode=options["mode"])
        for check in checks:
            self.stdout.write(check.line())
        failed = [check.name for check in checks if not check.ok]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
