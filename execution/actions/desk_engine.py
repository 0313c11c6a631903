"""The desk's engine door (`manage.py desk_engine`, the Procfile's `engine` process): `make run` starts the
paper simulator with the desk, so prices move before any order, and keeps it from exiting idle while the
desk runs. Never LEAN: `make run-lean` shares the Procfile and must not log into IB at every start."""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings

from execution.engine import process as engines
from execution.engine.config import EngineConfigError

logger = logging.getLogger("execution.actions.desk_engine")

# How often the keep-alive file is touched and the engine checked (well inside any idle timeout).
KEEPALIVE_SECONDS = 2.0


def desk_alive_touch(*, mode: str) -> None:
    """Touch the mode's keep-alive file: the simulator does not exit idle while it is fresh."""
    path = engines.engine_folder(mode).desk_alive
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8"):
        pass
    os.utime(path)


def desk_engine_run(*, mode: str, stop: threading.Event, interval: float | None = None) -> int:
    """Until `stop`: keep the mode's simulator running (started at once, started again if it exits) and
    its keep-alive file fresh. Returns how many times it started the engine; with TRADEDESK_ENGINE=lean it
    starts nothing and only waits (the Procfile's process must stay up for honcho)."""
    if settings.TRADEDESK_ENGINE != "simulator":
        logger.info("desk engine: TRADEDESK_ENGINE=%s, not starting an engine", settings.TRADEDESK_ENGINE)
        stop.wait()
        return 0
    # Touched well inside the simulator's idle timeout, so it is never seen old while the desk runs.
    every = (
        interval if interval is not None else min(KEEPALIVE_SECONDS, settings.TRADEDESK_SIM_IDLE_TIMEOUT / 4)
    )
    starts = 0
    while not stop.is_set():
        desk_alive_touch(mode=mode)
        if engines.running_engine(mode) is None:
            try:
                state = engines.engine_start(mode)
            except (engines.EngineError, EngineConfigError) as exc:
                logger.warning("desk engine: the %s simulator did not start: %s", mode, exc)
            else:
                starts += 1
                logger.info("desk engine: %s simulator %s (run %s)", mode, state.state, state.run_id)
        stop.wait(every)
    return starts
