"""tradedesk settings: every value comes from the environment (see .env.example) with a working default."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tradedesk.beat import beat_schedule
from tradedesk.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_float,
    env_int,
    env_list,
    env_mapping,
    env_redis_url,
    env_str,
    env_time_zone,
)
from tradedesk.logs import logging_config, structlog_configure

BASE_DIR = Path(__file__).resolve().parent.parent
# One explicit switch: `production` (the deploy env file sets it) refuses unsafe configuration at start-up;
# `development` (make run, the tests) works with no configuration at all.
TRADEDESK_ENV = env_choice("TRADEDESK_ENV", "development", ("development", "production"))
PRODUCTION = TRADEDESK_ENV == "production"


def _refuse(problem: str) -> None:
    """Stop a production start-up with a message naming the variable to fix."""
    raise ImproperlyConfigured(f"{problem} (TRADEDESK_ENV=production)")


VAR_DIR = Path(env_str("TRADEDESK_VAR_DIR", str(BASE_DIR / "var"))).resolve()
if PRODUCTION and (not env_str("TRADEDESK_VAR_DIR", "") or VAR_DIR.is_relative_to(BASE_DIR)):
    # State inside the release would be left behind (and an engine orphaned) by the next release.
    _refuse("TRADEDESK_VAR_DIR must be set to a folder outside the release, e.g. /var/lib/tradedesk")
# Group bits on var/ and what the processes create in it, where a deployment shares it. Settings are only
# read: the umask and the folders are laid out at start-up (tradedesk/apps.py var_prepare).
TRADEDESK_VAR_GROUP_ACCESS = env_bool("TRADEDESK_VAR_GROUP_ACCESS", False)

DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    _refuse("DJANGO_DEBUG must be false")
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if PRODUCTION and len(SECRET_KEY) < 50:
    _refuse("DJANGO_SECRET_KEY must be set to a random value of at least 50 characters")
if not SECRET_KEY:
    # A fixed development key keeps sessions valid across restarts of `make run`; production sets its own.
    SECRET_KEY = "dev-insecure-tradedesk-key-change-me-in-production-0123456789"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its static Swagger UI, served under the CSP instead of a CDN
    "csp",
    "axes",
    "django_structlog",
    "orders",
    "execution",
    "tradedesk.apps.TradedeskConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost of the app's: every /api/ error answer (404 route, 405, 413, 500) leaves in one JSON shape.
    "tradedesk.api.errors.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tradedesk.middleware.StaffOnlyPathsMiddleware",
    "tradedesk.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
]
# The time Django spent on each answer, for the browser's Resource Timing (bench/latency.py turns it on).
TRADEDESK_SERVER_TIMING = env_bool("TRADEDESK_SERVER_TIMING", False)
if TRADEDESK_SERVER_TIMING:
    MIDDLEWARE.insert(1, "tradedesk.server_timing.ServerTimingMiddleware")

ROOT_URLCONF = "tradedesk.urls"
WSGI_APPLICATION = "tradedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tradedesk.web.colours.colour_context",
            ],
            "libraries": {"desk": "tradedesk.web.templatetags.desk"},
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tradedesk.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker, beat and ingest write concurrently: take the write lock at BEGIN and wait for it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend whose get_user reads the shared auth cache (tradedesk/auth_backends.py).
    "tradedesk.auth_backends.CachedModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/live-trade"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- I18n / time ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Stored and computed in UTC (logs, Celery, the API); people see times in their own zone: the zone a user
# chose on the page, else this one, activated per request by tradedesk.middleware.TimeZoneMiddleware.
TIME_ZONE = "UTC"
TRADEDESK_TIME_ZONE = env_time_zone("TRADEDESK_TIME_ZONE", "America/New_York")
# Which colour reads as up (gain, price up, long, buy) until a user picks their own on the page: "auto" follows
# the page's language (zh-hans: red up, as on mainland China's brokers; others: green up). The values are
# orders.models.ColourConvention's (settings cannot import models).
TRADEDESK_COLOUR_CONVENTION = env_choice(
    "TRADEDESK_COLOUR_CONVENTION", "auto", ("auto", "red-up", "green-up")
)
USE_I18N = True
USE_TZ = True
# Date and time formats (the admin's times with seconds and zone): tradedesk/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["tradedesk.formats"]

# --- Static ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security -------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Production turns these on by default and refuses turning the cookie, HSTS and proxy settings off.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# gunicorn sits behind a TLS-terminating proxy that sets X-Forwarded-Proto (deploy/gunicorn.conf.py).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", PRODUCTION) else None
)
if PRODUCTION:
    if not SESSION_COOKIE_SECURE:
        _refuse("DJANGO_SECURE_COOKIES must be true")
    if not SECURE_HSTS_SECONDS:
        _refuse("DJANGO_SECURE_HSTS_SECONDS must be > 0")
    if SECURE_PROXY_SSL_HEADER is None:
        _refuse("DJANGO_SECURE_PROXY_SSL_HEADER must be true")
# Paths only staff may open (others: the site's login, or 404 once logged in); production hides the admin
# login form and the API docs from the public.
TRADEDESK_STAFF_ONLY_PATHS = ("/admin/", "/api/docs", "/api/openapi.json") if PRODUCTION else ()
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
AXES_FAILURE_LIMIT = env_int("TRADEDESK_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
# Lock out the (username, address) pair: failures against one user never lock another user out from the
# same address (behind a proxy every user shares one address).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a reverse proxy, set how many proxies append to X-Forwarded-For so axes sees the client's address.
TRADEDESK_PROXY_COUNT = env_int("TRADEDESK_PROXY_COUNT", 0, minimum=0)
if TRADEDESK_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRADEDESK_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# Request bodies above this are refused (413 JSON under /api/) before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TRADEDESK_MAX_REQUEST_BYTES", 1 << 20, minimum=1024)

# --- Celery ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"  # its folders are made at start-up (tradedesk/apps.py)
    # kombu's transport, publishing each message whole (tradedesk/broker.py: a half-written one stops workers).
    CELERY_BROKER_TRANSPORT = "tradedesk.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # How often the worker lists the queue folder (kombu's default is 1 s: on average half a second
        # before a click's dispatch starts). A listdir of a near-empty folder every 25 ms costs next to
        # nothing, like the stream's own change-token check (tradedesk/web/stream.py POLL_SECONDS).
        "polling_interval": env_float("CELERY_FILESYSTEM_POLL_SECONDS", 0.025, minimum=0.001),
    }
else:
    # A task of a killed worker (acks_late) comes back after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 120, minimum=10),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # Publishing from a web request gives up fast when Redis is down; the sweep re-enqueues later.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
# A broker outage must not hang the web request that enqueues after commit.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes a task thread's database connection before and after every task unless this is
# set: a new PostgreSQL backend (7-15 ms) on every dispatch. Past this many tasks it closes once; until then
# tradedesk/celery.py applies CONN_MAX_AGE and the health checks per task, as Django does per request.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

TRADEDESK_INGEST_INTERVAL = env_float("TRADEDESK_INGEST_INTERVAL", 1.0, minimum=0.1)
TRADEDESK_SWEEP_INTERVAL = env_float("TRADEDESK_SWEEP_INTERVAL", 15.0, minimum=1.0)
# Engine-host queues: mode -> the queue of the worker on the host that runs that mode's engine (e.g.
# paper=engine.paper,live=engine.live). Empty: every task on the default queue (one host sees every engine).
TRADEDESK_ENGINE_QUEUES = env_mapping("TRADEDESK_ENGINE_QUEUES", ("paper", "live"))
# True: this process sees the engine folders (ingest-on-read). False on web hosts without engines.
TRADEDESK_ENGINE_FILES_LOCAL = env_bool("TRADEDESK_ENGINE_FILES_LOCAL", True)
# An ASGI stream process serves /live-trade/stream beside the WSGI web workers (docs/deploy.md): pages served
# by WSGI then connect to it. A page served over ASGI (`make run`) connects whatever this says.
TRADEDESK_STREAMS = env_bool("TRADEDESK_STREAMS", False)
CELERY_TASK_ROUTES = ("execution.routing.route_task",)
# The page's P&L chart: every project's realised + unrealised P&L sampled this often (pruned like the files).
TRADEDESK_PNL_SAMPLE_SECONDS = env_float("TRADEDESK_PNL_SAMPLE_SECONDS", 60.0, minimum=1)
# The one beat schedule (tradedesk/beat.py): engine tasks once per mode when engine hosts have their own queues.
CELERY_BEAT_SCHEDULE = beat_schedule(
    per_mode=bool(TRADEDESK_ENGINE_QUEUES),
    ingest_interval=TRADEDESK_INGEST_INTERVAL,
    sweep_interval=TRADEDESK_SWEEP_INTERVAL,
    pnl_sample_seconds=TRADEDESK_PNL_SAMPLE_SECONDS,
)

# --- Cache ----------------------------------------------------------------------------------------------
# The shared cache (Redis: CACHE_URL, else a redis:// CELERY_BROKER_URL) holds recently seen API tokens,
# sessions and users, so a read or an idle poll needs no database round trip to authenticate. Every entry
# carries the auth epoch it was read under; a revoke, logout, user save or permission change replaces the
# epoch in the shared cache (orders/services/auth_cache.py), so it takes effect on the next request of every
# process. Without a shared cache (`make run`) nothing is cached: a per-process cache would miss a revoke or
# password change made by another process (`manage.py changepassword`, a second web process).
CACHE_URL = env_redis_url("CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")) else ""
)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "tradedesk.cache.RedisCache",
            "LOCATION": CACHE_URL,
            # Deployments (and test databases) sharing one Redis never read each other's entries.
            "KEY_PREFIX": f"tradedesk:{DATABASES['default']['NAME']}",
            # A Redis outage costs a request half a second at most, then auth reads the database.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How long a cached token, session or user is used before the database is asked again (0: never cached).
# The epoch makes revokes immediate; this bounds what a write that bypasses the epoch (raw SQL, a restore)
# can leave behind.
TRADEDESK_AUTH_CACHE_SECONDS = env_int("TRADEDESK_AUTH_CACHE_SECONDS", 30 if CACHE_URL else 0, minimum=0)
if TRADEDESK_AUTH_CACHE_SECONDS and not CACHE_URL:
    raise ImproperlyConfigured(
        "TRADEDESK_AUTH_CACHE_SECONDS needs a shared cache (CACHE_URL or a redis:// CELERY_BROKER_URL)"
    )
# Push (execution/push.py): committed changes and the engines' snapshots published on Redis pub/sub, which
# the stream process relays to the pages (Server-Sent Events). Without Redis (`make run`'s defaults) each
# stream watches the change counter itself. Channel and keys are per database, like the cache's prefix.
TRADEDESK_PUSH_URL = env_redis_url("TRADEDESK_PUSH_URL") or CACHE_URL
TRADEDESK_PUSH_PREFIX = f"tradedesk:{DATABASES['default']['NAME']}:push"
# Sessions are read through the shared auth cache when there is one.
SESSION_ENGINE = "tradedesk.web.sessions_cached" if TRADEDESK_AUTH_CACHE_SECONDS else "tradedesk.web.sessions"

# --- Trading / execution --------------------------------------------------------------------------------
TRADEDESK_EXECUTION_ROOT = Path(env_str("TRADEDESK_EXECUTION_ROOT", str(VAR_DIR / "execution"))).resolve()
TRADEDESK_ENGINE = env_choice("TRADEDESK_ENGINE", "simulator", ("simulator", "lean"))
# On: the first order of a mode starts its engine (make run). Off: engines run as their own units
# (`manage.py engine start --mode paper`), and an order finding no engine fails with that message.
TRADEDESK_ENGINE_AUTOSTART = env_bool("TRADEDESK_ENGINE_AUTOSTART", True)
# Intents, command results and run records of finished orders older than this are pruned (0: never).
TRADEDESK_RETENTION_DAYS = env_int("TRADEDESK_RETENTION_DAYS", 30, minimum=0)
# Whole months (before the current one) the events table and the audit log keep; `manage.py history_archive`
# moves older months of closed orders' events and of the audit log into the archive tables.
TRADEDESK_HISTORY_KEEP_MONTHS = env_int("TRADEDESK_HISTORY_KEEP_MONTHS", 3, minimum=0)
TRADEDESK_MAX_ORDER_QUANTITY = env_decimal("TRADEDESK_MAX_ORDER_QUANTITY", "1000000")
TRADEDESK_MAX_ORDER_NOTIONAL = env_decimal("TRADEDESK_MAX_ORDER_NOTIONAL", "10000000")
TRADEDESK_MAX_WORKING_ORDERS = env_int("TRADEDESK_MAX_WORKING_ORDERS", 200, minimum=1)
TRADEDESK_MAX_ORDERS_PER_MINUTE = env_int("TRADEDESK_MAX_ORDERS_PER_MINUTE", 120, minimum=1)
# A limit/stop price this many percent from the market price asks to confirm (soft) or is refused (hard).
TRADEDESK_PRICE_BAND_SOFT_PCT = env_decimal("TRADEDESK_PRICE_BAND_SOFT_PCT", "10")
TRADEDESK_PRICE_BAND_HARD_PCT = env_decimal("TRADEDESK_PRICE_BAND_HARD_PCT", "50")
TRADEDESK_DUPLICATE_WINDOW_SECONDS = env_float("TRADEDESK_DUPLICATE_WINDOW_SECONDS", 3.0, minimum=0)
TRADEDESK_REENQUEUE_AFTER_SECONDS = env_float("TRADEDESK_REENQUEUE_AFTER_SECONDS", 30.0, minimum=1)
TRADEDESK_STALE_AFTER_SECONDS = env_float("TRADEDESK_STALE_AFTER_SECONDS", 120.0, minimum=1)
# An events line longer than this is a bad line, skipped without being held in memory.
TRADEDESK_EVENTS_MAX_LINE_BYTES = env_int("TRADEDESK_EVENTS_MAX_LINE_BYTES", 1 << 20, minimum=1024)
# Each ingest transaction stops applying after this many seconds (a backlog never holds the lock long).
TRADEDESK_INGEST_TRANSACTION_SECONDS = env_float("TRADEDESK_INGEST_TRANSACTION_SECONDS", 1.0, minimum=0)
# Bad lines stored (with a 1 KiB excerpt) per batch; the rest are counted on the file's cursor.
TRADEDESK_BAD_LINES_KEPT_PER_BATCH = env_int("TRADEDESK_BAD_LINES_KEPT_PER_BATCH", 100, minimum=1)
TRADEDESK_COMMAND_RESULT_TIMEOUT = env_float("TRADEDESK_COMMAND_RESULT_TIMEOUT", 10.0, minimum=0)
# A stop sends SIGINT (LEAN's clean shutdown), waits this long, then SIGTERM, then SIGKILL.
TRADEDESK_ENGINE_STOP_TIMEOUT = env_float("TRADEDESK_ENGINE_STOP_TIMEOUT", 60.0, minimum=0.1)
# Market prices: the engine replaces prices.json at most every N seconds; older than the threshold is stale.
TRADEDESK_PRICES_INTERVAL = env_float("TRADEDESK_PRICES_INTERVAL", 2.0, minimum=1)
TRADEDESK_PRICE_STALE_SECONDS = env_float("TRADEDESK_PRICE_STALE_SECONDS", 30.0, minimum=1)
# Symbols a user's ticket may ask the engine to subscribe per minute (for their bid / ask).
TRADEDESK_QUOTE_REQUESTS_PER_MINUTE = env_int("TRADEDESK_QUOTE_REQUESTS_PER_MINUTE", 20, minimum=1)
# /metrics: "staff" (a staff session or HTTP basic auth of a staff user) or "open" (a private network only).
TRADEDESK_METRICS_ACCESS = env_choice("TRADEDESK_METRICS_ACCESS", "staff", ("staff", "open"))

# Simulator engine (the embedded default).
TRADEDESK_SIM_SEED = env_int("TRADEDESK_SIM_SEED", 7)
TRADEDESK_SIM_IDLE_TIMEOUT = env_float("TRADEDESK_SIM_IDLE_TIMEOUT", 600.0, minimum=1)
TRADEDESK_SIM_FILL_DELAY = env_float("TRADEDESK_SIM_FILL_DELAY", 0.05, minimum=0)
TRADEDESK_SIM_PARTIAL_FILLS = env_int("TRADEDESK_SIM_PARTIAL_FILLS", 1, minimum=1)
TRADEDESK_SIM_HOLDINGS_INTERVAL = env_float("TRADEDESK_SIM_HOLDINGS_INTERVAL", 60.0, minimum=0.1)
# "always": the demo fills market orders around the clock; "us-equity": 9:30-16:00 New York, Mon-Fri.
TRADEDESK_SIM_MARKET_HOURS = env_choice("TRADEDESK_SIM_MARKET_HOURS", "always", ("always", "us-equity"))
# A fixed UTC time (ISO 8601) for the simulator's market hours, for tests and demos; empty: the real clock.
TRADEDESK_SIM_CLOCK = env_str("TRADEDESK_SIM_CLOCK", "")
# The symbols the simulator trades (others get an Invalid event, like an unknown contract at IB); the ticket
# completes symbols from it.
TRADEDESK_SIM_UNIVERSE_FILE = env_str(
    "TRADEDESK_SIM_UNIVERSE_FILE", str(BASE_DIR / "execution/data/us_equities.txt")
)

# The simulated account's USD cash when its account file is new (every fill and fee moves it from there).
TRADEDESK_SIM_STARTING_CASH = env_decimal("TRADEDESK_SIM_STARTING_CASH", "100000")
# Symbols whose prices the simulator keeps from its start, so the page's prices move before any order.
TRADEDESK_SIM_FOLLOW = env_list("TRADEDESK_SIM_FOLLOW", ["AAPL", "MSFT", "NVDA", "SPY"])
if not all(re.fullmatch(r"[A-Z][A-Z0-9.]{0,14}", symbol) for symbol in TRADEDESK_SIM_FOLLOW):
    raise ImproperlyConfigured("TRADEDESK_SIM_FOLLOW must be comma-separated symbols like AAPL,MSFT")

# Real LEAN (TRADEDESK_ENGINE=lean). IB secrets are read here and written only into the engine's config.json.
LEAN_LAUNCHER_CMD = env_str("LEAN_LAUNCHER_CMD", "dotnet QuantConnect.Lean.Launcher.dll")
LEAN_LAUNCHER_DIR = env_str("LEAN_LAUNCHER_DIR", "")
LEAN_DATA_FOLDER = env_str("LEAN_DATA_FOLDER", "")
PYTHONNET_PYDLL = env_str("PYTHONNET_PYDLL", "")
IB_HOST = env_str("IB_HOST", "127.0.0.1")
IB_PORT = env_int("IB_PORT", 4002, minimum=1)
IB_TWS_DIR = env_str("IB_TWS_DIR", "")
IB_VERSION = env_str("IB_VERSION", "")
IB_WEEKLY_RESTART_UTC_TIME = env_str("IB_WEEKLY_RESTART_UTC_TIME", "")
# IB's Rule 80A letter, sent on every order (IB plugin Client/AgentDescription.cs:18-72@d154917; its default
# I: InteractiveBrokersBrokerage.cs:372@d154917). IB knows no other value: a word is a start-up error.
IB_AGENT_DESCRIPTIONS = ("I", "A", "W", "J", "U", "M", "K", "Y", "N")
IB_AGENT_DESCRIPTION = env_str("IB_AGENT_DESCRIPTION", "I")
if IB_AGENT_DESCRIPTION not in IB_AGENT_DESCRIPTIONS:
    raise ImproperlyConfigured(
        f"IB_AGENT_DESCRIPTION={IB_AGENT_DESCRIPTION!r} must be IB's Rule 80A letter, one of "
        f"{', '.join(IB_AGENT_DESCRIPTIONS)} (I = an individual; see docs/lean.md)"
    )
# QuantConnect account: LEAN's IB brokerage validates the subscription with it at start. Read here but required
# only when a LEAN engine's config is built, so web hosts need no LEAN secrets.
QC_USER_ID = env_str("QC_USER_ID", "")
QC_API_TOKEN = env_str("QC_API_TOKEN", "")
QC_ORGANIZATION_ID = env_str("QC_ORGANIZATION_ID", "")
IB_LOGINS = {
    mode: {
        "user_name": env_str(f"IB_{mode.upper()}_USER_NAME", ""),
        "password": env_str(f"IB_{mode.upper()}_PASSWORD", ""),
        "account": env_str(f"IB_{mode.upper()}_ACCOUNT", ""),
    }
    for mode in ("paper", "live")
}

# --- Logging --------------------------------------------------------------------------------------------
LOG_LEVEL = env_choice("TRADEDESK_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
# json: one JSON object per line (production's default); console: readable lines (make run's default).
LOG_FORMAT = env_choice("TRADEDESK_LOG_FORMAT", "json" if PRODUCTION else "console", ("json", "console"))
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
structlog_configure()
# Request ids ride in task headers into worker log lines; task start/success lines are DEBUG chatter.
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_CELERY_DEFAULT_LOG_LEVEL = logging.DEBUG
