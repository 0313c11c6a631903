"""Every event the ledger stored, and those whose tag matched no order."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models.choices import (
    MONEY,
    PRICE,
    QTY,
)
from orders.models.trading import TradeOrder


class ExecutionEvent(models.Model):
    """One raw engine event, stored once by its identity (order history, dedupe, unmatched review)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Recorded, status not applied")
        UNMATCHED = "unmatched", _("No order with this tag")

    # Uniqueness is declared in Meta: `unique=True` on a CharField also builds a LIKE (pattern_ops) index on
    # PostgreSQL that nothing uses and every insert pays for. No index on the tag either: no query looks an
    # event up by its tag (the admin's search is a substring match), and every insert wrote it.
    event_key = models.CharField(max_length=64)
    # Indexed in Meta with the event time (event_order_timeline), which also serves the foreign key.
    order = models.ForeignKey(
        TradeOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    tag = models.CharField(max_length=200)
    status = models.CharField(max_length=64)
    run_id = models.CharField(max_length=100, blank=True, default="")
    engine_order_id = models.BigIntegerField(null=True, blank=True)
    engine_event_id = models.BigIntegerField(null=True, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    filled = models.DecimalField(**QTY, null=True, blank=True)
    fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    fee = models.DecimalField(**MONEY, null=True, blank=True)
    message = models.TextField(blank=True, default="")
    payload = models.JSONField()
    source = models.CharField(max_length=500, blank=True, default="")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # Why an event was not applied as is (a tag of another mode's order, a time far in the future).
    reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["event_time", "id"]
        indexes = [
            # An order's timeline in its order, from the index (it also serves the foreign key's checks).
            models.Index(fields=["order", "event_time", "id"], name="event_order_timeline"),
            # The admin's unmatched events in its order (the model's): only unmatched rows are in it (ingest
            # writes it for those alone), so that list never walks the applied history.
            models.Index(
                fields=["event_time", "id"],
                name="event_unmatched_recent",
                condition=Q(outcome="unmatched"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event_key"], name="event_key_unique"),
            models.CheckConstraint(
                condition=Q(filled__isnull=True) | Q(filled__gte=0), name="event_filled_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(fill_price__isnull=True) | Q(fill_price__gte=0), name="event_price_nonneg"
            ),
            models.CheckConstraint(condition=Q(fee__isnull=True) | Q(fee__gte=0), name="event_fee_nonneg"),
            models.CheckConstraint(
                condition=Q(outcome="unmatched", order__isnull=True)
                | Q(~Q(outcome="unmatched"), order__isnull=False),
                name="event_unmatched_has_no_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} {self.status} ({self.event_key[:12]})"


class UnmatchedEvent(ExecutionEvent):
    """Engine events whose tag matched no order: the admin's review list (rows with outcome "unmatched")."""

    class Meta:
        proxy = True
        verbose_name = _("unmatched engine event")
        verbose_name_plural = _("unmatched engine events")
