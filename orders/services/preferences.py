"""A user's display preferences: the time zone the page and the admin show times in."""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from django.utils import timezone

from orders.errors import OrderValidationError
from orders.models import TIME_ZONE_REGEX, TimeZoneChoice

# Names zoneinfo lists that are not zones: the server's own /etc/localtime (its meaning depends on the host)
# and tzdata's placeholder for "zone unknown" (UTC labelled -00).
_NOT_ZONES = frozenset({"localtime", "Factory"})


@functools.cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def time_zone_is_known(*, name: str) -> bool:
    """Whether `name` is an IANA time zone that zoneinfo can load (the database's shape rule included)."""
    return bool(re.fullmatch(TIME_ZONE_REGEX, name)) and name in _known_time_zones()


def time_zone_remember(*, user: Any, time_zone: str) -> str:
    """Store the user's time zone (one row per user); an unknown name is refused."""
    name = (time_zone or "").strip()
    if not time_zone_is_known(name=name):
        raise OrderValidationError(
            f"unknown time zone: {name[:64]!r}", errors={"time_zone": "not an IANA time zone"}
        )
    TimeZoneChoice.objects.update_or_create(
        user=user, defaults={"time_zone": name, "chosen_at": timezone.now()}
    )
    return name


def time_zone_remembered(*, user: Any) -> str | None:
    """The user's stored time zone, if any and still known to zoneinfo."""
    name = TimeZoneChoice.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return name if name and time_zone_is_known(name=name) else None
