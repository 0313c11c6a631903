"""The read path in-process: CPU ms per request of the three issue-13 endpoints and their baselines, per lever.

Usage: python bench/inprocess.py [--iterations 300] [--rounds 3] [--profile NAME] [--keep-db]
Builds bench/load.py's data (50,000 orders, 500 positions) in its own database (tradedesk_bench_inprocess),
then requests each endpoint through Django's test client (the whole middleware stack, no sockets) under each
variant of the levers, interleaved in rounds so that a loaded machine slows every variant alike. Reports this
process's CPU time per request (time.process_time) and, separately, the CPU time of its PostgreSQL backend
(from /proc, same host), so work moved out of the process into the database is not hidden.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import create_database, django_setup, drop_database

DB_NAME = "tradedesk_bench_inprocess"
# Issue 13's targets, each a ratio of CPU time per request to a baseline's (the inverse of req/s).
TARGETS = {"api": ("orm", 0.6), "rendered": ("orm", 0.4), "idle": ("bare", 0.7)}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def variants() -> dict[str, dict[str, Any]]:
    """Settings of each lever: 'before' is round 2's configuration, then the levers one on top of the other
    (the health check alone); 'after' is the configuration as shipped."""
    from django.conf import settings

    shipped_cache = settings.CACHES["default"]
    plain_cache = {"default": shipped_cache | {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    ttl = settings.TRADEDESK_AUTH_CACHE_SECONDS or 30
    before = {
        "TRADEDESK_AUTH_CACHE_SECONDS": 0,
        "SESSION_ENGINE": "tradedesk.web.sessions",
        "CONN_HEALTH_CHECKS": True,
        "CACHES": plain_cache,
    }
    tokens = before | {"TRADEDESK_AUTH_CACHE_SECONDS": ttl}
    sessions = tokens | {"SESSION_ENGINE": "tradedesk.web.sessions_cached"}
    clients = sessions | {"CACHES": {"default": shipped_cache}}
    after = {
        "TRADEDESK_AUTH_CACHE_SECONDS": ttl,
        "SESSION_ENGINE": settings.SESSION_ENGINE,
        "CONN_HEALTH_CHECKS": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
        "CACHES": {"default": shipped_cache},
    }
    return {
        "before": before,
        "+ cached tokens and users": tokens,
        "+ cached sessions": sessions,
        "+ one Redis client per pool": clients,
        "before without the connection health check": before | {"CONN_HEALTH_CHECKS": False},
        "after": after,
    }


@contextmanager
def configured(overrides: dict[str, Any]) -> Iterator[None]:
    """The settings of one variant."""
    from django.db import connection
    from django.test.utils import override_settings

    health = overrides.get("CONN_HEALTH_CHECKS")
    plain = {key: value for key, value in overrides.items() if key != "CONN_HEALTH_CHECKS"}
    # Read at connect time: both the settings and the open connection's flag (not in django-stubs).
    saved = connection.settings_dict["CONN_HEALTH_CHECKS"], getattr(connection, "health_check_enabled", False)
    if health is not None:
        connection.settings_dict["CONN_HEALTH_CHECKS"] = health
        setattr(connection, "health_check_enabled", health)  # noqa: B010
    try:
        with override_settings(**plain):
            yield
    finally:
        connection.settings_dict["CONN_HEALTH_CHECKS"] = saved[0]
        setattr(connection, "health_check_enabled", saved[1])  # noqa: B010


def backend_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process on this host, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def endpoints(token: str, user: Any, project_id: int) -> dict[str, Callable[[], Any]]:
    """One request function per endpoint; sessions are made under the variant's session engine."""
    from django.test import Client

    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    browser = Client()
    browser.force_login(user, backend=_model_backend())
    partial = f"/live-trade/orders?project={project_id}"
    versions = _poll_versions(browser, partial)
    positions_only = "&".join(part for part in versions.split("&") if part.startswith("pv="))
    plain = Client()

    def expect(status: int, path: str, client: Client, **headers: Any) -> Callable[[], Any]:
        def call() -> Any:
            response = client.get(path, **headers)
            if response.status_code != status:
                raise SystemExit(f"{path}: {response.status_code}, not {status}: {response.content[:300]!r}")
            return response

        return call

    return {
        "bare": expect(200, "/bench/bare", plain),
        "orm": expect(200, "/bench/bare-orders", plain),
        "api": expect(200, "/api/trade/orders?limit=50", bearer),
        "rendered": expect(200, f"{partial}&{positions_only}", browser, HTTP_HX_REQUEST="true"),
        "idle": expect(204, f"{partial}&{versions}", browser, HTTP_HX_REQUEST="true"),
    }


def _model_backend() -> str:
    from django.conf import settings

    return next(path for path in settings.AUTHENTICATION_BACKENDS if "axes" not in path)


def _poll_versions(client: Any, path: str) -> str:
    import re

    body = client.get(path, HTTP_HX_REQUEST="true").content.decode()
    found = {name: re.search(rf'name="{name}" value="([^"]*)"', body) for name in ("ov", "pv")}
    if not all(found.values()):
        raise SystemExit(f"no ov/pv in the orders partial: {body[:300]}")
    return "&".join(f"{name}={match.group(1)}" for name, match in found.items() if match)


def measure(call: Callable[[], Any], iterations: int, backend_pid: int) -> tuple[float, float]:
    """(process CPU ms, PostgreSQL backend CPU ms) per request over `iterations` requests."""
    for _ in range(max(10, iterations // 20)):
        call()  # warm: caches filled, templates compiled
    backend = backend_cpu_seconds(backend_pid)
    cpu = time.process_time()
    for _ in range(iterations):
        call()
    cpu = time.process_time() - cpu
    backend = backend_cpu_seconds(backend_pid) - backend
    return cpu * 1000 / iterations, backend * 1000 / iterations


def main(argv: list[str] | None = None) -> int:
    """Run every variant's endpoints in interleaved rounds and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=300, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="profile the 'after' variant of this endpoint (top 40)")
    parser.add_argument("--sort", default="cumulative", help="the profile's sort key (e.g. tottime)")
    parser.add_argument("--only", help="comma-separated variants to run (default: all)")
    parser.add_argument("--log-level", default="WARNING", help="TRADEDESK_LOG_LEVEL (bench/load.py: WARNING)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    bench_dir = str(Path(__file__).resolve().parent)
    sys.path.insert(0, bench_dir)
    tmp = Path(tempfile.mkdtemp(prefix="bench-inprocess-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "TRADEDESK_VAR_DIR": str(tmp / "var"),
            "TRADEDESK_EXECUTION_ROOT": str(tmp / "execution"),
            "TRADEDESK_LOG_LEVEL": args.log_level,
        }
    )
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    create_database(DB_NAME)
    try:
        django_setup()
        import load
        from django.contrib.auth import get_user_model
        from django.db import connection

        token, _session, project_id = load.set_up(tmp / "execution")
        user = get_user_model().objects.get(username="bench")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = int(cursor.fetchone()[0])
        chosen = variants()
        if args.only:
            chosen = {name: chosen[name] for name in args.only.split(",")}
        if args.profile:
            with configured(chosen.get("after", next(iter(chosen.values())))):
                call = endpoints(token, user, project_id)[args.profile]
                for _ in range(50):
                    call()
                profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
                profiler.enable()
                for _ in range(args.iterations):
                    call()
                profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
            return 0
        figures: dict[str, dict[str, list[tuple[float, float]]]] = {name: {} for name in chosen}
        for round_number in range(args.rounds):
            for name, overrides in chosen.items():
                with configured(overrides):
                    for endpoint, call in endpoints(token, user, project_id).items():
                        figures[name].setdefault(endpoint, []).append(
                            measure(call, args.iterations, backend_pid)
                        )
            print(f"round {round_number + 1}/{args.rounds} done (load average {os.getloadavg()[0]:.1f})")
        print(f"CPU ms per request, median of {args.rounds} rounds x {args.iterations} requests "
              "(process; + PostgreSQL backend)")  # fmt: skip
        for name, by_endpoint in figures.items():
            medians = {
                endpoint: (statistics.median(p for p, _ in runs), statistics.median(b for _, b in runs))
                for endpoint, runs in by_endpoint.items()
            }
            cells = ", ".join(f"{endpoint} {p:.2f} (+{b:.2f})" for endpoint, (p, b) in medians.items())
            ratios = ", ".join(
                f"{endpoint}/{base} {medians[base][0] / medians[endpoint][0]:.0%} (target {target:.0%})"
                for endpoint, (base, target) in TARGETS.items()
                if endpoint in medians and base in medians
            )
            print(f"{name}: {cells}\n    {ratios}", flush=True)
    finally:
        if not args.keep_db:
            drop_database(DB_NAME)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
