"""A user's display preferences, kept across sessions and browsers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The shape of an IANA zone name (America/New_York, Etc/GMT+5, UTC); whether zoneinfo knows it is the service's.
TIME_ZONE_REGEX = r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$"


class TimeZoneChoice(models.Model):
    """The time zone a user chose for the page and the admin (else the TRADEDESK_TIME_ZONE default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="time_zone_choice"
    )
    time_zone = models.CharField(max_length=64)
    chosen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(time_zone__regex=TIME_ZONE_REGEX), name="time_zone_choice_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.time_zone}"


class ColourConvention(models.TextChoices):
    """Which colour reads as up: gain, price up, long, buy (and the other as down, loss, short, sell)."""

    # Mainland China's brokers and vn.py's trader window (COLOR_LONG red): red is up.
    RED_UP = "red-up", _("Red up / green down")
    GREEN_UP = "green-up", _("Green up / red down")


class ColourChoice(models.Model):
    """The colour convention a user chose for the page and the admin (else the desk's or the language's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="colour_choice"
    )
    convention = models.CharField(max_length=16, choices=ColourConvention.choices)
    chosen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(convention__in=ColourConvention.values), name="colour_choice_convention"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.convention}"
