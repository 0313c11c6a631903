"""Shared helpers of the benchmarks: a throw-away PostgreSQL database, Django set-up, figures and targets."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/tradedesk"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/14"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def database_url(name: str) -> str:
    """The DATABASE_URL of the environment (or the default) pointed at database `name`."""
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"the benchmarks need PostgreSQL; DATABASE_URL is {parts.scheme}://...")
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def bench_database_name(default: str) -> str:
    """DATABASE_URL's own database name when it starts with `default` (a per-engineer copy), else `default`."""
    name = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)).path.lstrip("/")
    return name if name.startswith(default) else default


def _admin_connect(url: str) -> psycopg.Connection[Any]:
    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    return psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True)


def create_database(name: str) -> str:
    """Drop and create database `name`; point DATABASE_URL at it and return the URL."""
    url = database_url(name)
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    return url


def drop_database(name: str) -> None:
    """Drop database `name` (the benchmark's own), closing Django's connections first."""
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # Django may not be set up
        pass
    with _admin_connect(database_url(name)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(*, migrate: bool = True) -> None:
    """Set Django up on the current DATABASE_URL and (optionally) migrate it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ.setdefault("TRADEDESK_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def figure(name: str, value: float, unit: str = "") -> None:
    """Print one figure as a plain line."""
    text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    print(f"{name}: {text}{' ' + unit if unit else ''}", flush=True)


@dataclass
class Targets:
    """Targets checked in one run; `exit_code` is 1 when any was missed."""

    missed: list[str] = field(default_factory=list)

    def check(self, name: str, value: float, op: str, target: float, unit: str = "") -> bool:
        """Compare value against target with op ('>=' or '<=') and print a TARGET line."""
        ok = value >= target if op == ">=" else value <= target
        suffix = f" {unit}" if unit else ""
        verdict = "ok" if ok else "MISSED"
        print(
            f"TARGET {name}: {value:,.2f}{suffix} (target {op} {target:,.2f}{suffix}) {verdict}", flush=True
        )
        if not ok:
            self.missed.append(name)
        return ok

    @property
    def exit_code(self) -> int:
        """0 when every target held."""
        if self.missed:
            print(f"targets missed: {', '.join(self.missed)}", flush=True)
        return 1 if self.missed else 0


def start_process(
    name: str, command: list[str], env: dict[str, str], logdir: Path
) -> subprocess.Popen[bytes]:
    """Start a service in its own session (it and its children stop together), output in logdir/name.log."""
    with open(logdir / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop a service started by start_process: SIGTERM to its session, SIGKILL after `timeout`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def service_env(**extra: str) -> dict[str, str]:
    """The environment for the services of a benchmark: this one's, plus broker default and `extra`."""
    env = os.environ.copy()
    env.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER_URL)
    env.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env
