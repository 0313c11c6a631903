"""`manage.py desk_engine`: make run's paper simulator, started with the desk and kept from idling out."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from execution.actions import desk_engine_run


class Command(BaseCommand):
    """Start the mode's simulator now and keep it up while this runs (SIGTERM / SIGINT end it)."""

    help = (
        "Start the paper simulator with the desk so prices move before any order, and keep its idle exit "
        "away while this runs. With TRADEDESK_ENGINE=lean it starts nothing (make run-lean never logs into "
        "IB at start); the engine itself stays detached when this ends."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--mode: the engine to keep (paper)."""
        parser.add_argument("--mode", default="paper", choices=("paper", "live"))

    def handle(self, *args: Any, **options: Any) -> None:
        """Run until a signal sets the stop event."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        starts = desk_engine_run(mode=options["mode"], stop=stop)
        self.stdout.write(f"desk engine stopped after {starts} start(s)")
