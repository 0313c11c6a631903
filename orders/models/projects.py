"""Projects (trading books), their change counters and the access counter."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from orders.models.choices import (
    MONEY,
    QTY,
    Mode,
    TradingState,
)


class Project(models.Model):
    """A trading book: its orders and positions live in one mode (paper or live)."""

    name = models.CharField(max_length=100, unique=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.PAPER)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="trading_projects", blank=True)
    trading_state = models.CharField(max_length=10, choices=TradingState.choices, default=TradingState.ACTIVE)
    # Risk limits; empty means the settings default applies.
    max_order_quantity = models.DecimalField(**QTY, null=True, blank=True)
    max_order_notional = models.DecimalField(**MONEY, null=True, blank=True)
    max_working_orders = models.PositiveIntegerField(null=True, blank=True)
    max_orders_per_minute = models.PositiveIntegerField(null=True, blank=True)
    # Limit/stop price distance from the market price, in percent: past soft asks to confirm, past hard refuses.
    price_band_soft_pct = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    price_band_hard_pct = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("trade_live", "Can place and manage LIVE orders")]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="project_mode_valid"),
            models.CheckConstraint(
                condition=Q(trading_state__in=TradingState.values), name="project_trading_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(max_order_quantity__isnull=True) | Q(max_order_quantity__gt=0),
                name="project_max_qty_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_order_notional__isnull=True) | Q(max_order_notional__gt=0),
                name="project_max_notional_positive",
            ),
            models.CheckConstraint(
                condition=Q(price_band_soft_pct__isnull=True) | Q(price_band_soft_pct__gt=0),
                name="project_price_band_soft_positive",
            ),
            models.CheckConstraint(
                condition=Q(price_band_hard_pct__isnull=True) | Q(price_band_hard_pct__gt=0),
                name="project_price_band_hard_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.mode})"


class ProjectVersion(models.Model):
    """Change counters of a project's orders and positions, so an idle page poll answers 204 from one row.

    A row of its own, not columns of Project: bumping it never takes the project row's lock (which order
    creation holds), and every writer bumps it last in its transaction, after its order and position locks,
    so ingest, dispatch and order creation never wait on each other in a cycle. A project without a row has
    never changed since the counters exist (0, 0)."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="version"
    )
    orders = models.BigIntegerField(default=0)
    positions = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.project_id}: orders {self.orders}, positions {self.positions}"


class AccessVersion(models.Model):
    """One row: a counter moved by every change that may end someone's access to a project's page (a user
    saved or deleted, a logout, a membership added or removed, a project deleted), so an open push stream
    re-checks its access only when it moved (tradedesk/web/stream.py), not at every change of the book."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="access_version_single_row")]

    def __str__(self) -> str:
        return f"access version {self.version}"


class ProjectChoice(models.Model):
    """The project a user last opened on the live-trade page: the page opens it again in a new session."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="project_choice"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    chosen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.project_id}"


class EngineHalt(models.Model):
    """The engine-wide halt of one mode (paper / live): while halted, every project of the mode accepts only
    orders that reduce a position (Close, Liquidate), like a project's HALTED.

    One row per mode, created on first use; order creation reads it FOR SHARE and a halt change takes it FOR
    UPDATE (orders.services.halts), so no risk-increasing order commits after a halt has committed."""

    mode = models.CharField(max_length=8, choices=Mode.choices, primary_key=True)
    halted = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_name = models.CharField(max_length=150, blank=True, default="")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mode"]
        permissions = [("halt_engine", "Can halt and resume a mode's engine for every project")]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="engine_halt_mode_valid"),
            # A halt always says why (the page shows the reason to every trader of the mode).
            models.CheckConstraint(condition=Q(halted=False) | ~Q(reason=""), name="engine_halt_has_reason"),
            models.CheckConstraint(
                condition=Q(halted=False) | Q(changed_at__isnull=False), name="engine_halt_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mode}: {'HALTED' if self.halted else 'running'}"
