"""gunicorn settings for the stream process (deploy/systemd/tradedesk-stream.service; docs/deploy.md): the
pages' push streams (/live-trade/stream) on uvicorn workers, beside the sync web workers of gunicorn.conf.py.

An open stream is a coroutine waiting on its worker's hub, not a worker: a few workers hold thousands. Every
stream is one long request, so a worker recycled (max_requests) or stopped (a deploy) ends its streams and
the browsers reconnect at once, resuming from the last version they saw (Last-Event-ID)."""

import os

wsgi_app = "tradedesk.asgi:application"
bind = os.environ.get("GUNICORN_STREAM_BIND", "127.0.0.1:8001")
worker_class = "uvicorn_worker.UvicornWorker"
# Two, so a recycled worker's browsers reconnect to the other one while it restarts.
workers = int(os.environ.get("GUNICORN_STREAM_WORKERS", "2"))
# A stream is one request: a worker is recycled after this many streams (each ends by itself after five
# minutes too), with jitter so both workers never recycle together.
max_requests = 2000
max_requests_jitter = 400
# SIGTERM (a deploy, a recycle): open streams get this long to end; the browser reconnects within a second.
graceful_timeout = 10
# The worker heartbeat, not a request bound: a stream lives far longer than this.
timeout = 30
keepalive = 5
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
preload_app = True
