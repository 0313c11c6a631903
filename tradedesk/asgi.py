"""ASGI entry point: the stream process (uvicorn; docs/deploy.md) serves /live-trade/stream from it, where an
open stream is a coroutine, not a thread. The same application serves every other route too (`make run`'s
single web process); production keeps those on gunicorn's sync workers (deploy/gunicorn.conf.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
application = get_asgi_application()
