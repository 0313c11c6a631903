"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")

app = Celery("tradedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids of the web request that enqueued a task reach the task's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)


@setup_logging.connect
def logging_setup(**kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (structlog, JSON in production), not Celery's format."""
    logging.config.dictConfig(settings.LOGGING)
