"""The one Celery beat schedule, built by tradedesk/settings.py from the intervals it reads."""

from __future__ import annotations


def beat_schedule(
    *, per_mode: bool, ingest_interval: float, sweep_interval: float, pnl_sample_seconds: float
) -> dict[str, dict[str, object]]:
    """The entries by name: the engine tasks once per mode when engine hosts have their own queues (`per_mode`),
    then the desk-wide ones."""
    engine_task_modes: list[str | None] = ["paper", "live"] if per_mode else [None]
    schedule: dict[str, dict[str, object]] = {}
    for mode in engine_task_modes:
        suffix, kwargs = (f"-{mode}", {"mode": mode}) if mode else ("", {})
        schedule |= {
            f"ingest-execution-events{suffix}": {
                "task": "execution.tasks.ingest_events",
                "schedule": ingest_interval,
                "kwargs": kwargs,
                "options": {"expires": max(ingest_interval * 5, 5.0)},
            },
            f"sweep-orders{suffix}": {
                "task": "execution.tasks.sweep_orders",
                "schedule": sweep_interval,
                "kwargs": kwargs,
                "options": {"expires": sweep_interval * 2},
            },
            f"prune-execution-files{suffix}": {
                "task": "execution.tasks.prune_execution_files",
                "schedule": 3600.0,
                "kwargs": kwargs,
                "options": {"expires": 600},
            },
        }
    # The page's P&L chart: every project's realised + unrealised P&L sampled this often.
    schedule["sample-pnl"] = {
        "task": "execution.tasks.sample_pnl",
        "schedule": pnl_sample_seconds,
        "options": {"expires": pnl_sample_seconds},
    }
    # Planner statistics of the small tables (orders/services/maintenance.py): once an hour, on any worker.
    schedule["analyze-small-tables"] = {
        "task": "execution.tasks.analyze_small_tables",
        "schedule": 3600.0,
        "options": {"expires": 600},
    }
    return schedule
