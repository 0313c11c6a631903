"""Log configuration: structlog renders every record (ours, Django's, Celery's, gunicorn's) as JSON or console
lines with timestamp, level, logger, context (request id, task id, order id) and `extra=` fields; tracebacks
never carry local variables (they held database passwords and the secret key)."""

from __future__ import annotations

import logging
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

# Tasks beat sends every few seconds: their received/succeeded lines are DEBUG, not INFO (~57 MB a day).
QUIET_TASKS = ("execution.tasks.ingest_events", "execution.tasks.sweep_orders")
QUIET_SCHEDULE_ENTRIES = ("ingest-execution-events", "sweep-orders")
QUIET_LOGGERS = ("celery.beat", "celery.app.trace", "celery.worker.strategy", "celery.worker.request")


def _pre_chain() -> list[Any]:
    """Processors for standard-library records before the renderer: context, level, logger, extras, time."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def log_renderer(fmt: str) -> list[Any]:
    """The formatter's processors for `json` or `console`, tracebacks without local variables."""
    if fmt == "json":
        return [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(default=str),
        ]
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
    ]


class QuietPeriodicTasks(logging.Filter):
    """Demote Celery's per-second lines about beat's periodic tasks to DEBUG (dropped unless level is DEBUG)."""

    def __init__(self, level: str = "INFO") -> None:
        super().__init__()
        self.debug = logging.getLevelName(level) <= logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a quiet line when DEBUG is off; relabelled DEBUG when on."""
        if record.levelno != logging.INFO or not record.name.startswith(QUIET_LOGGERS):
            return True
        message = record.getMessage()
        if not any(name in message for name in (*QUIET_TASKS, *QUIET_SCHEDULE_ENTRIES)):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return bool(self.debug)


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """The LOGGING dict: one stderr handler, structlog's formatter, app loggers at `level`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": log_renderer(fmt),
                "foreign_pre_chain": _pre_chain(),
            },
        },
        "filters": {"quiet_periodic": {"()": QuietPeriodicTasks, "level": level}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "structlog",
                "filters": ["quiet_periodic"],
            }
        },
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "tradedesk": {"level": level},
            "orders": {"level": level},
            "execution": {"level": level},
            "django_structlog": {"level": level},
            "celery": {"level": "DEBUG" if level == "DEBUG" else "INFO"},
            # runserver's request lines, with our timestamp and level instead of Django's own format.
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def structlog_configure() -> None:
    """structlog loggers hand their event dicts to the standard-library formatter above."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
