"""The interfaces' app: at start-up it lays out the var folder the settings name (settings are only read)."""

from __future__ import annotations

import os
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


def var_prepare() -> None:
    """This process's umask and the folders the settings name: var/ (owner-only, or its group's under
    TRADEDESK_VAR_GROUP_ACCESS), the static root, and the filesystem broker's folders."""
    # Nothing under var/ (SQLite with sessions and password hashes, engine logs, configs) is readable by other
    # users: no "other" bits on anything this process creates; group bits only where a deployment shares it.
    group = settings.TRADEDESK_VAR_GROUP_ACCESS
    os.umask(0o007 if group else 0o077)
    var_dir = Path(settings.VAR_DIR)
    var_dir.mkdir(parents=True, exist_ok=True)
    var_dir.chmod(0o770 if group else 0o700)
    # whitenoise serves from finders in development; it only needs the folder.
    Path(settings.STATIC_ROOT).mkdir(exist_ok=True)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "control_folder"):
            Path(str(options[key])).mkdir(parents=True, exist_ok=True)


class TradedeskConfig(AppConfig):
    """tradedesk (interfaces: page, API, admin, commands)."""

    name = "tradedesk"

    def ready(self) -> None:
        """Before any database, broker or engine folder is opened: the var folder and the umask."""
        var_prepare()
