"""TRADEDESK_ENV=production: unsafe configuration stops start-up; the documented env passes check --deploy."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
    "'secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS,"
    "'proxy': s.SECURE_PROXY_SSL_HEADER, 'redirect': s.SECURE_SSL_REDIRECT, 'log': s.LOG_FORMAT,"
    "'staff_only': list(s.TRADEDESK_STAFF_ONLY_PATHS), 'autostart': s.TRADEDESK_ENGINE_AUTOSTART,"
    "'cache': s.CACHES['default']['BACKEND'], 'cache_url': s.CACHE_URL, 'auth_cache': s.TRADEDESK_AUTH_CACHE_SECONDS,"
    "'sessions': s.SESSION_ENGINE}))"
)


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only PATH and HOME from outside: what each case sets is all the configuration there is."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tradedesk.settings"}
    env["TRADEDESK_VAR_DIR"] = str(tmp_path / "var")
    return env | extra


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_path, TRADEDESK_ENV="production", DJANGO_SECRET_KEY=secrets.token_urlsafe(64), **extra
    )


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_development_needs_no_configuration(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    del env["TRADEDESK_VAR_DIR"]
    result = run_settings(env | {"TRADEDESK_VAR_DIR": str(tmp_path / "dev-var")})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["secure"] is False and shown["hsts"] == 0 and shown["proxy"] is None
    assert shown["staff_only"] == [] and shown["log"] == "console" and shown["autostart"] is True


@pytest.mark.parametrize(
    ("change", "cache_url", "auth_cache"),
    [
        ({}, "", 0),
        ({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/2"}, "redis://127.0.0.1:6379/2", 30),
        (
            {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/2", "CACHE_URL": "redis://cache:6379/5"},
            "redis://cache:6379/5",
            30,
        ),
        (
            {"CACHE_URL": "redis://cache:6379/5", "TRADEDESK_AUTH_CACHE_SECONDS": "0"},
            "redis://cache:6379/5",
            0,
        ),
    ],
)
def test_auth_is_cached_only_in_a_shared_cache(
    tmp_path: Path, change: dict[str, str], cache_url: str, auth_cache: int
) -> None:
    result = run_settings(base_env(tmp_path, **change))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["cache_url"] == cache_url and shown["auth_cache"] == auth_cache
    assert shown["cache"].endswith("RedisCache" if cache_url else "LocMemCache")
    assert shown["sessions"] == ("tradedesk.web.sessions_cached" if auth_cache else "tradedesk.web.sessions")


def test_a_per_process_auth_cache_is_refused(tmp_path: Path) -> None:
    result = run_settings(base_env(tmp_path, TRADEDESK_AUTH_CACHE_SECONDS="30"))
    assert result.returncode != 0
    assert "TRADEDESK_AUTH_CACHE_SECONDS" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short-key"}, "DJANGO_SECRET_KEY"),
        ({"TRADEDESK_VAR_DIR": ""}, "TRADEDESK_VAR_DIR"),
        ({"TRADEDESK_VAR_DIR": str(ROOT / "var")}, "TRADEDESK_VAR_DIR"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECURE_COOKIES": "false"}, "DJANGO_SECURE_COOKIES"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, "DJANGO_SECURE_HSTS_SECONDS"),
        ({"DJANGO_SECURE_PROXY_SSL_HEADER": "false"}, "DJANGO_SECURE_PROXY_SSL_HEADER"),
    ],
)
def test_production_refuses_unsafe_configuration(
    tmp_path: Path, change: dict[str, str], variable: str
) -> None:
    result = run_settings(production_env(tmp_path) | change)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_production_turns_on_secure_defaults(tmp_path: Path) -> None:
    result = run_settings(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["secure"] is True and shown["csrf_secure"] is True and shown["redirect"] is True
    assert shown["hsts"] > 0 and shown["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert {"/admin/", "/api/docs"} <= set(shown["staff_only"]) and shown["log"] == "json"


def template_env(path: Path) -> dict[str, str]:
    """The variables of a deploy env template (placeholders in <...> left as they are)."""
    pairs = re.findall(r"^([A-Z0-9_]+)=(.*)$", path.read_text(), re.MULTILINE)
    return dict(pairs)


def test_check_deploy_is_clean_with_the_documented_production_env(tmp_path: Path) -> None:
    env = template_env(ROOT / "deploy" / "tradedesk.env")
    env |= {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "desk.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://desk.example.com",
        "DATABASE_URL": "postgres://tradedesk:pw@127.0.0.1:5432/tradedesk",
        "TRADEDESK_VAR_DIR": str(tmp_path / "var"),
    }
    assert not [key for key, value in env.items() if "<" in value]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base_env(tmp_path) | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_env_templates_use_only_documented_variables() -> None:
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    for name in ("tradedesk.env", "engine.env"):
        used = set(template_env(ROOT / "deploy" / name))
        assert used - listed == set(), name
    web_env = template_env(ROOT / "deploy" / "tradedesk.env")
    assert not [key for key in web_env if key.startswith("IB_")]


@pytest.fixture
def staff_only(settings: Any) -> None:
    settings.TRADEDESK_STAFF_ONLY_PATHS = ("/admin/", "/api/docs", "/api/openapi.json")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/api/docs", "/api/openapi.json"])
def test_staff_only_paths_send_anonymous_visitors_to_the_site_login(staff_only: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_staff_only_paths_are_404_for_traders_and_open_for_staff(staff_only: None) -> None:
    client = Client()
    client.force_login(UserFactory(username="trader"))
    assert client.get("/api/docs").status_code == 404
    assert client.get("/admin/").status_code == 404
    client.force_login(UserFactory(username="boss", is_staff=True))
    assert client.get("/api/docs").status_code == 200
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_api_docs_stay_public_in_development() -> None:
    assert Client().get("/api/docs").status_code == 200


def test_reading_the_settings_creates_nothing_and_start_up_lays_out_var(tmp_path: Path) -> None:
    """Settings are only read; django.setup() (tradedesk/apps.py) makes var/ owner-only and sets the umask."""
    script = (
        "import os, json, pathlib; from django.conf import settings; settings.VAR_DIR; "
        "var = pathlib.Path(os.environ['TRADEDESK_VAR_DIR']); before = var.exists(); "
        "import django; django.setup(); mask = os.umask(0); "
        "print(json.dumps({'before': before, 'mode': oct(var.stat().st_mode & 0o777), 'umask': oct(mask)}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"before": False, "mode": "0o700", "umask": "0o77"}
