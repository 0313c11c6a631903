"""The archive of the engine events and the audit log: months nobody reads on screen, moved out of the hot tables.

`manage.py history_archive` (orders/services/archive.py) moves whole months here; the books (orders, fills)
are never archived. An archived row keeps its id and every column, so an order's timeline reads both tables
as one (orders.selectors.order_events) and the audit stays complete. The columns are ExecutionEvent's and
AuditLog's in their order: the timeline is one UNION of the two event tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models.choices import MONEY, PRICE, QTY
from orders.models.ledger import ExecutionEvent
from orders.models.projects import Project
from orders.models.trading import TradeOrder


class ArchivedExecutionEvent(models.Model):
    """An engine event of a closed order, moved out of the events table by month (same id and columns)."""

    id = models.BigIntegerField(primary_key=True)
    # Unique as in the events table: the ingest skips a key stored here (exactly once across both tables).
    event_key = models.CharField(max_length=64)
    order = models.ForeignKey(TradeOrder, on_delete=models.PROTECT, related_name="+", db_index=False)
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
    outcome = models.CharField(max_length=10, choices=ExecutionEvent.Outcome.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["event_time", "id"]
        verbose_name = _("archived engine event")
        verbose_name_plural = _("archived engine events")
        indexes = [
            # An archived order's timeline in its order, as event_order_timeline serves the events table.
            models.Index(fields=["order", "event_time", "id"], name="archived_event_timeline"),
            # The archive's admin list, newest month first.
            models.Index(fields=["received_at", "id"], name="archived_event_received"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event_key"], name="archived_event_key_unique"),
            # Only the events of orders are archived: the unmatched ones stay for review.
            models.CheckConstraint(
                condition=~models.Q(outcome=ExecutionEvent.Outcome.UNMATCHED),
                name="archived_event_has_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} {self.status} ({self.event_key[:12]})"


class ArchivedAuditLog(models.Model):
    """An audit log entry moved out of the log by month (same id and columns); append-only as the log."""

    id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=32)
    source_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=16, blank=True, default="")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    order = models.ForeignKey(
        TradeOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("archived audit log entry")
        verbose_name_plural = _("archived audit log entries")
        indexes = [models.Index(fields=["at", "id"], name="archived_audit_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Refuse writes: rows arrive only by the archive's INSERT ... SELECT."""
        raise ValueError("the archived audit log is append-only")

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        """Refuse deletes: the log only grows."""
        raise ValueError("the archived audit log is append-only")
