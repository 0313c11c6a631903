"""`manage.py engine status|stop [PROJECT] MODE`: the engine of a mode (shared by its projects)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from execution import engines
from execution.services import engine_stop, engines_check
from orders.errors import TradedeskError
from orders.models import Project
from orders.services import Actor


class Command(BaseCommand):
    """Show or stop a mode's engine."""

    help = "Show or stop the engine of a mode. One engine serves every project of its mode (one IB login)."

    def add_arguments(self, parser: CommandParser) -> None:
        """action, then PROJECT MODE or just MODE."""
        parser.add_argument("action", choices=["status", "stop"])
        parser.add_argument("target", nargs="+", help="PROJECT MODE, or MODE")
        parser.add_argument(
            "--force", action="store_true", help="stop even with working orders (they become unknown)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the state (after stopping, for stop)."""
        target = options["target"]
        if len(target) > 2:
            raise CommandError("give PROJECT MODE or MODE")
        mode = target[-1]
        if mode not in engines.MODES:
            raise CommandError(f"mode must be one of {', '.join(engines.MODES)}")
        if len(target) == 2:
            project = Project.objects.filter(name=target[0]).first()
            if project is None:
                raise CommandError(f"no project named {target[0]!r}")
            if project.mode != mode:
                raise CommandError(f"project {project.name} trades in {project.mode} mode, not {mode}")
        if options["action"] == "stop":
            try:
                engine_stop(mode=mode, force=options["force"], actor=Actor(channel="command"))
            except TradedeskError as exc:
                raise CommandError(exc.message) from None
        state = next(s for s in engines_check() if s.mode == mode)
        self.stdout.write(json.dumps(state.as_dict(), indent=2))
