"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings
from django_structlog.celery.steps import DjangoStructLogInitStep

from tradedesk.apps import var_prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")

app = Celery("tradedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids of the web request that enqueued a task reach the task's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)


@app.on_after_configure.connect
def folders_prepare(**kwargs: Any) -> None:
    """A process that only publishes (``celery call``, beat) never runs Django's ready(): lay out the var folder
    and the filesystem broker's folders here too, or its first message has no queue folder to land in."""
    var_prepare()


@setup_logging.connect
def logging_setup(**kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (structlog, JSON in production), not Celery's format."""
    logging.config.dictConfig(settings.LOGGING)
