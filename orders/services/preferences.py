"""A user's display preferences: the time zone the page and the admin show times in, and which colour is up."""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.utils import timezone

from orders.errors import OrderValidationError
from orders.models import TIME_ZONE_REGEX, ColourChoice, ColourConvention, TimeZoneChoice

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


# Languages whose traders read red as up (gain, long, buy): Chinese brokers' screens, vn.py's COLOR_LONG.
RED_UP_LANGUAGES = frozenset({"zh-hans"})
DESK_DEFAULT_BY_LANGUAGE = "auto"


def colour_convention_remember(*, user: Any, convention: str) -> str:
    """Store the user's colour convention (one row per user); anything but red-up / green-up is refused."""
    name = (convention or "").strip()
    if name not in ColourConvention.values:
        raise OrderValidationError(
            f"unknown colour convention: {name[:32]!r}",
            errors={"colours": f"one of {', '.join(ColourConvention.values)}"},
        )
    ColourChoice.objects.update_or_create(
        user=user, defaults={"convention": name, "chosen_at": timezone.now()}
    )
    return name


def colour_convention_remembered(*, user: Any) -> str | None:
    """The user's stored colour convention, if any."""
    return ColourChoice.objects.filter(user=user).values_list("convention", flat=True).first()


def colour_convention_default(*, language: str) -> str:
    """The convention of a user who chose none: TRADEDESK_COLOUR_CONVENTION, else the page's language's."""
    desk = str(settings.TRADEDESK_COLOUR_CONVENTION)
    if desk != DESK_DEFAULT_BY_LANGUAGE:
        return desk
    return (
        ColourConvention.RED_UP if (language or "").lower() in RED_UP_LANGUAGES else ColourConvention.GREEN_UP
    )


def colour_convention_for(*, user: Any, language: str) -> str:
    """The convention a page shows: the user's choice, else colour_convention_default."""
    chosen = colour_convention_remembered(user=user) if user is not None and user.is_authenticated else None
    return chosen or colour_convention_default(language=language)
