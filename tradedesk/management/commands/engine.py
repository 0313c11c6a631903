"""`manage.py engine start|stop|status --mode MODE`: a mode's engine (one per IB login, shared by its projects).

The older form `engine status|stop [PROJECT] MODE` still works."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from execution.actions import EngineConfigError, EngineError, engine_start, engine_stop, engines_check
from execution.selectors import MODES
from orders.doors import Actor
from orders.errors import TradedeskError
from orders.models import Project


class Command(BaseCommand):
    """Start, stop or show a mode's engine."""

    help = (
        "Start (log in to IB before the open), stop or show the engine of a mode. One engine serves every "
        "project of its mode. Exit status of status: 0 running, 3 not running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """action, then --mode MODE (or the older PROJECT MODE / MODE)."""
        parser.add_argument("action", choices=["start", "stop", "status"])
        parser.add_argument("target", nargs="*", help="(older form) PROJECT MODE, or MODE")
        parser.add_argument("--mode", choices=MODES)
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="seconds a stop waits after SIGINT (default: the setting)",
        )
        parser.add_argument(
            "--force", action="store_true", help="stop even while the engine holds working orders"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the engine's state as JSON after the action."""
        mode = self._mode(options["mode"], options["target"])
        action = options["action"]
        if action == "start":
            try:
                state = engine_start(mode)
            except (EngineError, EngineConfigError) as exc:
                raise CommandError(str(exc)) from None
            if state.state != "running":
                raise CommandError(f"the {mode} engine did not stay up: {json.dumps(state.as_dict())}")
        elif action == "stop":
            try:
                engine_stop(
                    mode=mode,
                    force=options["force"],
                    timeout=options["timeout"],
                    actor=Actor(channel="command"),
                )
            except TradedeskError as exc:
                raise CommandError(exc.message) from exc
        state = next(s for s in engines_check() if s.mode == mode)
        self.stdout.write(json.dumps(state.as_dict(), indent=2))
        if action == "status" and state.state != "running":
            # systemd and scripts read "not running" from the exit status (LSB: 3).
            raise SystemExit(3)

    @staticmethod
    def _mode(mode: str | None, target: list[str]) -> str:
        if mode is not None:
            if target:
                raise CommandError("give --mode MODE or the older PROJECT MODE, not both")
            return mode
        if not target or len(target) > 2:
            raise CommandError("give --mode MODE")
        mode = target[-1]
        if mode not in MODES:
            raise CommandError(f"mode must be one of {', '.join(MODES)}")
        if len(target) == 2:
            project = Project.objects.filter(name=target[0]).first()
            if project is None:
                raise CommandError(f"no project named {target[0]!r}")
            if project.mode != mode:
                raise CommandError(f"project {project.name} trades in {project.mode} mode, not {mode}")
        return mode
