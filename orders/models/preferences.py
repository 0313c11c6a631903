"""A user's display preferences, kept across sessions and browsers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

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
