"""gunicorn settings for tradedesk's web unit (deploy/systemd/tradedesk-web.service); docs/deploy.md."""

import multiprocessing
import os

wsgi_app = "tradedesk.wsgi:application"
# Behind a TLS proxy (nginx, caddy) on the same host: listen on loopback only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: requests are short (the API and page poll); 2 per core plus one, at most 9.
workers = int(os.environ.get("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 9)))
worker_class = "sync"
# A request never waits on an engine (dispatch is a Celery task); 30 s bounds a stuck database call.
timeout = 30
graceful_timeout = 25
keepalive = 5
# Recycle workers now and then so a slow leak never builds up.
max_requests = 2000
max_requests_jitter = 200
# X-Forwarded-Proto/For are trusted from the local proxy only (SECURE_PROXY_SSL_HEADER relies on it).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
# Access and error logs to stderr (journald); access lines are JSON like the app's own.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"event": "request", "logger": "gunicorn.access", "remote": "%(h)s", "method": "%(m)s", '
    '"path": "%(U)s", "query": "%(q)s", "status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, '
    '"user_agent": "%(a)s", "request_id": "%({x-request-id}i)s"}'
)
# Load the app once in the master: a broken release fails `systemctl restart` instead of every worker.
preload_app = True
