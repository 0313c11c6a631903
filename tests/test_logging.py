"""Log shape: JSON lines with timestamp, level, logger, context and extra= fields; tracebacks without locals."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import structlog
from celery.signals import before_task_publish

from tradedesk.logs import QuietPeriodicTasks

ROOT = Path(__file__).resolve().parent.parent
DB_PASSWORD = "pg-pass-word-1234"
SECRET_KEY = "secret-key-that-must-never-be-logged-" + "x" * 30

SCRIPT = """
import logging, django, structlog
django.setup()
structlog.contextvars.bind_contextvars(request_id="req-42")
logging.getLogger("execution.engine.process").info(
    "engine started", extra={"mode": "paper", "run_id": "r-1", "status": "running"}
)
structlog.get_logger("tradedesk.test").info("structlog line", order_id=7)
def start_engine():
    from django.conf import settings
    database_url = settings.DATABASE_URL
    secret = settings.SECRET_KEY
    raise RuntimeError("engine for paper did not start")
try:
    start_engine()
except RuntimeError:
    logging.getLogger("execution").exception("dispatch failed", extra={"order_id": 7})
"""


def run_logging(tmp_path: Path, fmt: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tradedesk.settings",
        "TRADEDESK_VAR_DIR": str(tmp_path / "var"),
        "TRADEDESK_LOG_FORMAT": fmt,
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"postgres://tradedesk:{DB_PASSWORD}@127.0.0.1:5432/tradedesk",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_json_lines_keep_timestamp_level_context_and_extra_fields(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in run_logging(tmp_path, "json").splitlines()]
    started, native, failed = lines
    assert started["event"] == "engine started" and started["level"] == "info"
    assert started["logger"] == "execution.engine.process" and started["timestamp"].endswith("Z")
    assert (started["mode"], started["run_id"], started["status"]) == ("paper", "r-1", "running")
    assert started["request_id"] == "req-42"
    assert native["order_id"] == 7 and native["request_id"] == "req-42" and native["level"] == "info"
    assert failed["level"] == "error" and failed["order_id"] == 7
    frames = [frame for exc in failed["exception"] for frame in exc["frames"]]
    assert any(frame["name"] == "start_engine" for frame in frames)
    assert all("locals" not in frame for frame in frames)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_tracebacks_carry_no_local_variables_or_secrets(tmp_path: Path, fmt: str) -> None:
    output = run_logging(tmp_path, fmt)
    assert "engine for paper did not start" in output
    assert DB_PASSWORD not in output
    assert SECRET_KEY[:20] not in output


def test_console_lines_have_timestamp_and_level(tmp_path: Path) -> None:
    first = run_logging(tmp_path, "console").splitlines()[0]
    assert first[:4].isdigit() and "[info" in first and "mode=paper" in first and "run_id=r-1" in first


def record(name: str, message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_per_second_task_lines_are_debug() -> None:
    quiet = QuietPeriodicTasks("INFO")
    assert not quiet.filter(record("celery.app.trace", "Task execution.tasks.ingest_events[1] succeeded"))
    assert not quiet.filter(record("celery.beat", "Scheduler: Sending due task ingest-execution-events"))
    assert quiet.filter(record("celery.app.trace", "Task execution.tasks.execute_manual_order[1] succeeded"))
    assert quiet.filter(record("execution.ingest.events", "execution.tasks.ingest_events found bad lines"))
    line = record("celery.app.trace", "Task execution.tasks.ingest_events[1] succeeded")
    assert QuietPeriodicTasks("DEBUG").filter(line) and line.levelname == "DEBUG"


def test_request_id_travels_in_task_headers(monkeypatch: Any) -> None:
    from execution.tasks import ingest_events

    seen: list[dict[str, Any]] = []

    def capture(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        seen.append(dict(headers or {}))

    before_task_publish.connect(capture, weak=False)
    try:
        with structlog.contextvars.bound_contextvars(request_id="req-7"):
            ingest_events.apply_async(expires=1)
    finally:
        before_task_publish.disconnect(capture)
    assert seen and seen[0]["__django_structlog__"]["request_id"] == "req-7"
