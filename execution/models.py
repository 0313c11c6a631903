"""Execution bookkeeping: where ingest stopped in each events file, and what engines reported."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventFileCursor(models.Model):
    """The byte offset up to which one events file was ingested, with the file's identity."""

    path = models.CharField(max_length=1000, unique=True)
    offset = models.BigIntegerField(default=0)
    device = models.BigIntegerField(null=True, blank=True)
    inode = models.BigIntegerField(null=True, blank=True)
    first_line_hash = models.CharField(max_length=64, blank=True, default="")
    lines_read = models.BigIntegerField(default=0)
    bad_lines = models.BigIntegerField(default=0)
    resets = models.PositiveIntegerField(default=0)
    # The offset stopped inside a line longer than the cap: the next read skips to that line's newline.
    discarding = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(offset__gte=0), name="cursor_offset_nonneg")]

    def __str__(self) -> str:
        return f"{self.path} @ {self.offset}"


class HoldingsDiscrepancy(models.Model):
    """A symbol whose engine holdings disagree with tradedesk's ledger for a mode (reconciliation)."""

    mode = models.CharField(max_length=8)
    symbol = models.CharField(max_length=15)
    engine_quantity = models.DecimalField(max_digits=20, decimal_places=6)
    ledger_quantity = models.DecimalField(max_digits=20, decimal_places=6)
    run_id = models.CharField(max_length=100, blank=True, default="")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["mode", "symbol"]
        constraints = [models.UniqueConstraint(fields=["mode", "symbol"], name="discrepancy_unique")]

    def __str__(self) -> str:
        return f"{self.mode} {self.symbol}: engine {self.engine_quantity} vs ledger {self.ledger_quantity}"


class HoldingsPart(models.Model):
    """One part of a holdings snapshot split over several lines, kept until its last part arrives."""

    mode = models.CharField(max_length=8)
    run_id = models.CharField(max_length=100, blank=True, default="")
    snapshot = models.CharField(max_length=100)
    part = models.PositiveIntegerField()
    parts = models.PositiveIntegerField()
    line = models.JSONField(help_text="the part's line as the engine wrote it")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mode", "run_id", "snapshot", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["mode", "run_id", "snapshot", "part"], name="holdings_part_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.run_id} snapshot {self.snapshot}: part {self.part}/{self.parts}"


class BadEventLine(models.Model):
    """An events line the ingest refused: where, why, and its first KiB (for staff; logged once per batch)."""

    source = models.CharField(max_length=1000)
    offset = models.BigIntegerField(null=True, blank=True, help_text="byte offset of the line in the file")
    reason = models.CharField(max_length=300)
    excerpt = models.TextField(blank=True, help_text="the line's first 1 KiB")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} @ {self.offset}: {self.reason}"


class EngineOpenOrder(models.Model):
    """An open order a run reloaded from the broker at its start (its open-orders line), and where it went.

    `order` is the desk order it was re-homed to (orders/services/rehome.py); an unmatched one (placed in TWS,
    a broker id that agrees on no desk order) keeps the reason and is never attached: staff see it in the
    engines API and the admin."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("Re-homed to its desk order")
        UNMATCHED = "unmatched", _("No desk order")

    mode = models.CharField(max_length=8)
    run_id = models.CharField(max_length=100)
    engine_order_id = models.BigIntegerField()
    broker_ids = models.JSONField(default=list)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    order_type = models.CharField(max_length=32, blank=True, default="")
    limit_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    stop_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    order = models.ForeignKey(
        "orders.TradeOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mode", "run_id", "engine_order_id"], name="open_order_unique"),
            models.CheckConstraint(
                condition=Q(outcome="matched") | Q(outcome="unmatched", reason__gt=""),
                name="open_order_matched_or_why_not",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.run_id} #{self.engine_order_id} {self.side} {self.quantity} {self.symbol}"


class PnlSample(models.Model):
    """A project's P&L at one moment (its chart through the day): realised + unrealised in its mode, and the
    last price of each open position (the rows' sparklines). Sampled by beat, pruned by the retention."""

    project = models.ForeignKey("orders.Project", on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8)
    at = models.DateTimeField()
    realized_pnl = models.DecimalField(max_digits=24, decimal_places=8)
    unrealized_pnl = models.DecimalField(max_digits=24, decimal_places=8)
    prices = models.JSONField(default=dict, blank=True)  # {symbol: last price as text}

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["project", "mode", "at"], name="pnl_sample_project_at")]
        constraints = [
            models.UniqueConstraint(fields=["project", "mode", "at"], name="pnl_sample_unique_moment"),
            models.CheckConstraint(condition=Q(mode__in=["paper", "live"]), name="pnl_sample_mode_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.mode} {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def total_pnl(self) -> object:
        """Realised + unrealised."""
        return self.realized_pnl + self.unrealized_pnl
