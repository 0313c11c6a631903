"""The simulator's launch config: what it reads of the LEAN-style config.json."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution.contract import market_hours
from execution.contract.folder import EVENTS_FILE
from execution.simulator.common import (
    DEFAULT_MAX_LINE_BYTES,
    SYMBOL_RE,
    line_cap,
    parse_decimal,
    universe_load,
    warn,
)


@dataclass
class SimulatorConfig:
    """What the simulator reads from the LEAN-style launch config."""

    workdir: Path
    events_file: Path
    intent_file: Path | None
    run_id: str
    seed: int | str = 7
    idle_timeout: float = 600.0
    fill_delay: float = 0.05
    partial_fills: int = 1
    holdings_interval: float = 60.0
    poll_interval: float = 0.02  # the longest wait between two steps (a command file ends it at once)
    inotify: bool = True  # command files wake the loop (execution/simulator/wakeup.py); False: the poll only
    reference_prices: dict[str, float] = field(default_factory=dict)
    market_hours: str = "always"  # or "us-equity": MKT outside 9:30-16:00 New York follows LEAN on IB
    clock: str = ""  # a fixed UTC time for the market hours (tests); empty: the real clock
    prices_interval: float = 0.0  # seconds between prices snapshots; 0: no snapshot
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES  # a longer holdings line is split into parts
    universe: frozenset[str] | None = None  # the symbols it trades; None: any well-formed symbol
    starting_cash: Decimal = Decimal(100000)  # a fresh account's USD cash
    follow: tuple[str, ...] = ()  # symbols whose prices it keeps from the start, held or not
    keepalive_file: Path | None = None  # while it was touched within idle_timeout, the run is never idle

    @classmethod
    def load(cls, config_path: Path) -> SimulatorConfig:
        """Read config.json; every path is resolved from the config's folder, never from the cwd."""
        config_path = config_path.resolve()
        workdir = config_path.parent
        raw = json.loads(config_path.read_text(encoding="utf-8-sig"))
        if not isinstance(raw, dict):
            raise ValueError("config is not a JSON object")
        params = raw.get("parameters") or {}
        if not isinstance(params, dict):
            raise ValueError("config 'parameters' is not an object")

        def resolve(value: Any) -> Path | None:
            """A parameter path, absolute or relative to the working directory; None when empty."""
            if value is None or str(value).strip() == "":
                return None
            path = Path(str(value))
            return path if path.is_absolute() else workdir / path

        events_file = resolve(params.get("events-file")) or workdir / EVENTS_FILE
        run_id = str(params.get("run-id") or "").strip()
        if not run_id:
            # A run id keeps order ids of different runs apart; invent one rather than run without it.
            run_id = f"r-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
        sim = raw.get("simulator") or {}
        if not isinstance(sim, dict):
            raise ValueError("config 'simulator' is not an object")
        prices: dict[str, float] = {}
        for symbol, price in (sim.get("reference-prices") or {}).items():
            number = parse_decimal(price)
            if number is None or number <= 0:
                warn(f"ignoring reference price {price!r} for {symbol!r}: not a positive number")
                continue
            prices[str(symbol)] = float(number)
        seed = sim.get("seed", 7)

        def setting(key: str, default: float) -> float:
            """A finite simulator setting; a bad one names its key, so the error line says what to fix."""
            value = parse_decimal(sim.get(key, default))
            if value is None:
                raise ValueError(f"simulator.{key} must be a finite number, got {sim.get(key)!r}")
            return float(value)

        hours = str(sim.get("market-hours") or "always")
        if hours not in market_hours.HOURS_CHOICES:
            raise ValueError(f"simulator.market-hours must be one of {', '.join(market_hours.HOURS_CHOICES)}")
        fixed_clock = str(sim.get("clock") or "")
        if fixed_clock:
            market_hours.clock(fixed_clock)  # a bad clock names its key now, not at the first order
        universe_file = resolve(sim.get("universe-file"))
        starting_cash = parse_decimal(sim.get("starting-cash", 100000))
        if starting_cash is None or starting_cash < 0:
            raise ValueError(
                f"simulator.starting-cash must be a number >= 0, got {sim.get('starting-cash')!r}"
            )
        follow = sim.get("follow") or []
        if not isinstance(follow, list) or not all(
            isinstance(s, str) and SYMBOL_RE.fullmatch(s) for s in follow
        ):
            raise ValueError("simulator.follow must be a list of symbols")
        return cls(
            workdir=workdir,
            events_file=events_file,
            intent_file=resolve(params.get("intent-file")),
            run_id=run_id,
            seed=seed if isinstance(seed, int | str) else str(seed),
            idle_timeout=setting("idle-timeout", 600),
            fill_delay=max(0.0, setting("fill-delay", 0.05)),
            partial_fills=max(1, int(setting("partial-fills", 1))),
            holdings_interval=setting("holdings-interval", 60),
            poll_interval=max(0.001, setting("poll-interval", 0.02)),
            inotify=sim.get("inotify", True) is not False,
            reference_prices=prices,
            market_hours=hours,
            clock=fixed_clock,
            prices_interval=max(0.0, setting("prices-interval", 0)),
            max_line_bytes=line_cap(params.get("max-line-bytes")),
            universe=None if universe_file is None else universe_load(universe_file),
            starting_cash=starting_cash,
            follow=tuple(follow),
            keepalive_file=resolve(sim.get("keepalive-file")),
        )
