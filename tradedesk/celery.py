"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun
from django.conf import settings
from django.db import close_old_connections
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


@task_prerun.connect
@task_postrun.connect
def connections_recycle(**kwargs: Any) -> None:
    """Around each task, what Django does around each request: drop a broken connection or one past
    CONN_MAX_AGE, keep the rest (CELERY_DB_REUSE_MAX stops the fixup closing every one)."""
    task = kwargs.get("task")
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run inside the caller's request and transaction: its connection is the caller's
    close_old_connections()
