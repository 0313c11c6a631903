"""Strict environment readers: a bad value stops start-up with a message naming the variable."""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    """A string variable, or the default when unset or empty."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable spelled 1/0, true/false, yes/no or on/off."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer variable, at least `minimum` when given."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be >= {minimum}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """A finite float variable, at least `minimum` when given."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={value!r} must be finite")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be >= {minimum}")
    return number


def env_decimal(name: str, default: str) -> Decimal:
    """A finite, positive Decimal variable."""
    value = _raw(name) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={value!r} is not a decimal number") from None
    if not number.is_finite() or number <= 0:
        raise ImproperlyConfigured(f"{name}={value!r} must be a finite number > 0")
    return number


def env_choice(name: str, default: str, choices: Iterable[str]) -> str:
    """A variable restricted to a fixed set of values."""
    allowed = tuple(choices)
    value = env_str(name, default)
    if value not in allowed:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(allowed)}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list variable."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_mapping(name: str, keys: Iterable[str]) -> dict[str, str]:
    """A comma-separated list of key=value pairs (e.g. paper=engine.paper), keys from a fixed set."""
    allowed = tuple(keys)
    mapping: dict[str, str] = {}
    for item in env_list(name, []):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or key not in allowed or not re.fullmatch(r"[A-Za-z0-9._-]+", value) or key in mapping:
            raise ImproperlyConfigured(
                f"{name}: {item!r} must be KEY=NAME once per key, KEY one of {', '.join(allowed)}"
            )
        mapping[key] = value
    return mapping


def env_time_zone(name: str, default: str) -> str:
    """An IANA time zone name (America/New_York, Asia/Shanghai, UTC) that zoneinfo knows."""
    value = env_str(name, default)
    if value not in zoneinfo.available_timezones():
        raise ImproperlyConfigured(f"{name}={value!r} is not an IANA time zone (e.g. America/New_York)")
    return value


def env_redis_url(name: str) -> str:
    """A redis:// (or rediss://, unix://) URL, or "" when unset."""
    value = _raw(name)
    if value is None:
        return ""
    if not re.fullmatch(r"(rediss?://[^\s/]+(/\d+)?|unix://\S+)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a Redis URL (redis://host:port/db)")
    return value
