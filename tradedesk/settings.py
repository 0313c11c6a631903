"""tradedesk settings: every value comes from the environment (see .env.example) with a working default."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import structlog
from django.core.exceptions import ImproperlyConfigured

from tradedesk.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TRADEDESK_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("TRADEDESK_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set")
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
    "csp",
    "axes",
    "django_structlog",
    "orders",
    "execution",
    "tradedesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
]

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
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/live-trade"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- I18n / time ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from finders in development; it only needs the folder
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
SESSION_ENGINE = "tradedesk.web.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
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

# --- Celery ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
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
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

TRADEDESK_INGEST_INTERVAL = env_float("TRADEDESK_INGEST_INTERVAL", 1.0, minimum=0.1)
TRADEDESK_SWEEP_INTERVAL = env_float("TRADEDESK_SWEEP_INTERVAL", 15.0, minimum=1.0)
CELERY_BEAT_SCHEDULE = {
    "ingest-execution-events": {
        "task": "execution.tasks.ingest_events",
        "schedule": TRADEDESK_INGEST_INTERVAL,
        "options": {"expires": max(TRADEDESK_INGEST_INTERVAL * 5, 5.0)},
    },
    "sweep-orders": {
        "task": "execution.tasks.sweep_orders",
        "schedule": TRADEDESK_SWEEP_INTERVAL,
        "options": {"expires": TRADEDESK_SWEEP_INTERVAL * 2},
    },
}

# --- Trading / execution --------------------------------------------------------------------------------
TRADEDESK_EXECUTION_ROOT = Path(env_str("TRADEDESK_EXECUTION_ROOT", str(VAR_DIR / "execution"))).resolve()
TRADEDESK_ENGINE = env_choice("TRADEDESK_ENGINE", "simulator", ("simulator", "lean"))
TRADEDESK_MAX_ORDER_QUANTITY = env_decimal("TRADEDESK_MAX_ORDER_QUANTITY", "1000000")
TRADEDESK_MAX_ORDER_NOTIONAL = env_decimal("TRADEDESK_MAX_ORDER_NOTIONAL", "10000000")
TRADEDESK_MAX_WORKING_ORDERS = env_int("TRADEDESK_MAX_WORKING_ORDERS", 200, minimum=1)
TRADEDESK_MAX_ORDERS_PER_MINUTE = env_int("TRADEDESK_MAX_ORDERS_PER_MINUTE", 120, minimum=1)
TRADEDESK_DUPLICATE_WINDOW_SECONDS = env_float("TRADEDESK_DUPLICATE_WINDOW_SECONDS", 3.0, minimum=0)
TRADEDESK_REENQUEUE_AFTER_SECONDS = env_float("TRADEDESK_REENQUEUE_AFTER_SECONDS", 30.0, minimum=1)
TRADEDESK_STALE_AFTER_SECONDS = env_float("TRADEDESK_STALE_AFTER_SECONDS", 120.0, minimum=1)
TRADEDESK_COMMAND_RESULT_TIMEOUT = env_float("TRADEDESK_COMMAND_RESULT_TIMEOUT", 10.0, minimum=0)
# Market prices: the engine replaces prices.json at most every N seconds; older than the threshold is stale.
TRADEDESK_PRICES_INTERVAL = env_float("TRADEDESK_PRICES_INTERVAL", 2.0, minimum=1)
TRADEDESK_PRICE_STALE_SECONDS = env_float("TRADEDESK_PRICE_STALE_SECONDS", 30.0, minimum=1)
# /metrics: "staff" (a staff session or HTTP basic auth of a staff user) or "open" (a private network only).
TRADEDESK_METRICS_ACCESS = env_choice("TRADEDESK_METRICS_ACCESS", "staff", ("staff", "open"))

# Simulator engine (the embedded default).
TRADEDESK_SIM_SEED = env_int("TRADEDESK_SIM_SEED", 7)
TRADEDESK_SIM_IDLE_TIMEOUT = env_float("TRADEDESK_SIM_IDLE_TIMEOUT", 600.0, minimum=1)
TRADEDESK_SIM_FILL_DELAY = env_float("TRADEDESK_SIM_FILL_DELAY", 0.05, minimum=0)
TRADEDESK_SIM_PARTIAL_FILLS = env_int("TRADEDESK_SIM_PARTIAL_FILLS", 1, minimum=1)
TRADEDESK_SIM_HOLDINGS_INTERVAL = env_float("TRADEDESK_SIM_HOLDINGS_INTERVAL", 60.0, minimum=0.1)

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
IB_AGENT_DESCRIPTION = env_choice(
    "IB_AGENT_DESCRIPTION", "Individual", ("Individual", "Agent", "ThirdParty", "Proprietary")
)
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
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.dev.ConsoleRenderer(colors=False),
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "tradedesk": {"level": LOG_LEVEL},
        "orders": {"level": LOG_LEVEL},
        "execution": {"level": LOG_LEVEL},
    },
}
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
