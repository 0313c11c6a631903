"""Settings: strict environment readers, and .env.example lists every variable settings reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tradedesk.env import env_bool, env_choice, env_decimal, env_float, env_int, env_redis_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("reader", "value"),
    [
        (lambda: env_bool("X_TD", False), "maybe"),
        (lambda: env_int("X_TD", 1, minimum=1), "0"),
        (lambda: env_int("X_TD", 1), "1.5"),
        (lambda: env_float("X_TD", 1.0), "nan"),
        (lambda: env_decimal("X_TD", "1"), "-3"),
        (lambda: env_choice("X_TD", "a", ("a", "b")), "c"),
    ],
)
def test_bad_values_fail_loudly(monkeypatch: pytest.MonkeyPatch, reader: object, value: str) -> None:
    monkeypatch.setenv("X_TD", value)
    with pytest.raises(ImproperlyConfigured, match="X_TD"):
        reader()  # type: ignore[operator]


def test_env_example_lists_every_variable_settings_reads() -> None:
    source = (ROOT / "tradedesk" / "settings.py").read_text()
    names = set(re.findall(r'env_[a-z]+\(\s*"([A-Z0-9_]+)"', source))
    names |= {
        f"IB_{mode}_{key}" for mode in ("PAPER", "LIVE") for key in ("USER_NAME", "PASSWORD", "ACCOUNT")
    }
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert names - listed == set()
    assert "IB_AGENT_DESCRIPTION" in names


@pytest.mark.parametrize("value", ["http://127.0.0.1:6379/0", "redis://", "127.0.0.1:6379", "redis://h:1/x"])
def test_cache_url_must_be_a_redis_url(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("X_TD", value)
    with pytest.raises(ImproperlyConfigured, match="X_TD"):
        env_redis_url("X_TD")


def test_cache_url_accepts_redis_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in (
        "redis://127.0.0.1:6379/3",
        "rediss://:secret@cache.internal:6380/0",
        "unix:///run/redis.sock",
    ):
        monkeypatch.setenv("X_TD", value)
        assert env_redis_url("X_TD") == value
    monkeypatch.delenv("X_TD")
    assert env_redis_url("X_TD") == ""
