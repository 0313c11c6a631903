"""Orders: projects, trade orders, their fills and engine events, positions, API tokens, the audit log."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

CLIENT_ORDER_ID_REGEX = r"^[A-Za-z0-9_.-]{1,64}$"
SYMBOL_REGEX = r"^[A-Z][A-Z0-9.]{0,14}$"
# params.source of an order a person placed (page, API, admin); only these are handed to an engine.
SOURCE_MANUAL = "manual"


class Digits(TypedDict):
    """A DecimalField's size."""

    max_digits: int
    decimal_places: int


QTY: Digits = {"max_digits": 20, "decimal_places": 6}
PRICE: Digits = {"max_digits": 24, "decimal_places": 10}
MONEY: Digits = {"max_digits": 24, "decimal_places": 8}
NOTIONAL: Digits = {"max_digits": 40, "decimal_places": 16}
# The smallest step of each kind of number, derived from the columns (the one home of decimal places).
QTY_PLACES = Decimal(1).scaleb(-QTY["decimal_places"])
PRICE_PLACES = Decimal(1).scaleb(-PRICE["decimal_places"])
MONEY_PLACES = Decimal(1).scaleb(-MONEY["decimal_places"])


class Mode(models.TextChoices):
    PAPER = "paper", _("Paper")
    LIVE = "live", _("Live")


class TradingState(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    REDUCING = "REDUCING", _("Reducing only")
    HALTED = "HALTED", _("Halted")


class Side(models.TextChoices):
    BUY = "BUY", _("Buy")
    SELL = "SELL", _("Sell")


class OrderType(models.TextChoices):
    MKT = "MKT", _("Market")
    LMT = "LMT", _("Limit")
    STP = "STP", _("Stop")
    STP_LMT = "STP LMT", _("Stop limit")


# Order types that carry a limit price / a stop price (the rest must leave the field empty).
LIMIT_PRICE_TYPES = frozenset({OrderType.LMT, OrderType.STP_LMT})
STOP_PRICE_TYPES = frozenset({OrderType.STP, OrderType.STP_LMT})


class OrderStatus(models.TextChoices):
    NEW = "NEW", _("New")
    FAILED = "FAILED", _("Failed")
    SUBMITTED = "SUBMITTED", _("Submitted")
    PARTIALLY_FILLED = "PARTIALLY_FILLED", _("Partially filled")
    CANCEL_PENDING = "CANCEL_PENDING", _("Cancel pending")
    REJECTED = "REJECTED", _("Rejected")
    CANCELED = "CANCELED", _("Canceled")
    FILLED = "FILLED", _("Filled")


# The engine contract's rank: an order's status is the highest-ranked status among what was applied.
STATUS_RANK: dict[str, int] = {status.value: rank for rank, status in enumerate(OrderStatus)}
CLOSED_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED})
WORKING_STATUSES = frozenset(
    {OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING}
)


class OrderFlag(models.TextChoices):
    NONE = "", _("None")
    STALE = "STALE", _("No engine event for too long")
    ENGINE_DOWN = "ENGINE_DOWN", _("Engine exited while the order was working")
    COMMAND_UNREAD = "COMMAND_UNREAD", _("Engine has not read the order's command file")


# Flags that stand beside the engine flag above (which tracks the engine's liveness and clears on its next
# event): each is its own column, so an order can be engine-down and overfilled at once.
FLAG_OVERFILL = "OVERFILL"
FLAG_FUTURE_TIME = "FUTURE_TIME"
# An order whose engine run died is unknown, not working: it may still be live at the broker.
UNKNOWN_FLAG = OrderFlag.ENGINE_DOWN


def order_is_unknown(*, status: str, flag: str) -> bool:
    """Working, but its engine run died (the one rule; also for rows read as plain values)."""
    return status in WORKING_STATUSES and flag == UNKNOWN_FLAG


def order_flags(*, flag: str, overfilled: bool, future_event_time: bool) -> list[str]:
    """Every flag of an order: its engine flag, overfill, future event time (also for plain-value rows)."""
    found = [flag] if flag else []
    if overfilled:
        found.append(FLAG_OVERFILL)
    if future_event_time:
        found.append(FLAG_FUTURE_TIME)
    return found


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


class TradeOrder(models.Model):
    """One manual order; its execution state is derived from the engine's events."""

    client_order_id = models.CharField(max_length=64, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="orders")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    symbol = models.CharField(max_length=15)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.DecimalField(**QTY)
    order_type = models.CharField(max_length=8, choices=OrderType.choices, default=OrderType.MKT)
    limit_price = models.DecimalField(**PRICE, null=True, blank=True)
    stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.NEW)
    filled_quantity = models.DecimalField(**QTY, default=Decimal(0))
    # Sum of quantity * price over the fills: exact, so the average never depends on arrival order.
    filled_notional = models.DecimalField(**NOTIONAL, default=Decimal(0))
    avg_fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    fees = models.DecimalField(**MONEY, default=Decimal(0))
    ib_order_id = models.BigIntegerField(null=True, blank=True)
    last_status_ts = models.DateTimeField(null=True, blank=True)
    status_ts = models.DateTimeField(null=True, blank=True, help_text="Time of the event that set the status")
    status_message = models.TextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_attempts = models.PositiveIntegerField(default=0)
    flag = models.CharField(max_length=16, choices=OrderFlag.choices, blank=True, default="")
    flag_message = models.TextField(blank=True, default="")
    # Fills still count (the contract); these say the engine reported more than ordered, or an event time
    # more than a day ahead (stored, but it does not move last_status_ts).
    overfilled = models.BooleanField(default=False, db_default=False)
    future_event_time = models.BooleanField(default=False, db_default=False)
    # A modify sent to the engine and not yet confirmed: the requested values (None: unchanged) wait here and
    # become the order's on the engine's UpdateSubmitted event (orders/services/modify.py).
    update_pending = models.BooleanField(default=False, db_default=False)
    update_quantity = models.DecimalField(**QTY, null=True, blank=True)
    update_limit_price = models.DecimalField(**PRICE, null=True, blank=True)
    update_stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    # A cancel asked for while an engine holds the order; cancel_sent_at once the engine host wrote its command.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="order_project_created"),
            models.Index(fields=["status"], name="order_status"),
            models.Index(
                fields=["mode", "cancel_requested_at"],
                name="order_cancel_pending",
                condition=Q(cancel_requested_at__isnull=False, cancel_sent_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(client_order_id__regex=CLIENT_ORDER_ID_REGEX), name="order_client_id_format"
            ),
            models.CheckConstraint(condition=Q(symbol__regex=SYMBOL_REGEX), name="order_symbol_format"),
            models.CheckConstraint(condition=Q(symbol=Upper("symbol")), name="order_symbol_upper"),
            models.CheckConstraint(condition=Q(side__in=Side.values), name="order_side_valid"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="order_mode_valid"),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(filled_quantity__gte=0), name="order_filled_nonnegative"),
            models.CheckConstraint(condition=Q(filled_notional__gte=0), name="order_notional_nonnegative"),
            models.CheckConstraint(condition=Q(fees__gte=0), name="order_fees_nonnegative"),
            models.CheckConstraint(
                # A comparison with NULL is unknown, which a CHECK lets pass: required prices say NOT NULL.
                condition=Q(order_type=OrderType.MKT, limit_price__isnull=True, stop_price__isnull=True)
                | Q(
                    order_type=OrderType.LMT,
                    limit_price__isnull=False,
                    limit_price__gt=0,
                    stop_price__isnull=True,
                )
                | Q(
                    order_type=OrderType.STP,
                    stop_price__isnull=False,
                    stop_price__gt=0,
                    limit_price__isnull=True,
                )
                | Q(
                    order_type=OrderType.STP_LMT,
                    stop_price__isnull=False,
                    stop_price__gt=0,
                    limit_price__isnull=False,
                    limit_price__gt=0,
                ),
                name="order_prices_match_type",
            ),
            models.CheckConstraint(
                condition=Q(avg_fill_price__isnull=True) | Q(avg_fill_price__gt=0),
                name="order_avg_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(overfilled=False) | Q(filled_quantity__gt=models.F("quantity")),
                name="order_overfilled_means_more_than_ordered",
            ),
            models.CheckConstraint(
                condition=Q(update_pending=True)
                | Q(
                    update_quantity__isnull=True,
                    update_limit_price__isnull=True,
                    update_stop_price__isnull=True,
                ),
                name="order_update_values_only_when_pending",
            ),
            models.CheckConstraint(
                condition=(Q(update_quantity__isnull=True) | Q(update_quantity__gt=0))
                & (Q(update_limit_price__isnull=True) | Q(update_limit_price__gt=0))
                & (Q(update_stop_price__isnull=True) | Q(update_stop_price__gt=0)),
                name="order_update_values_positive",
            ),
            models.CheckConstraint(
                condition=Q(cancel_sent_at__isnull=True) | Q(cancel_requested_at__isnull=False),
                name="order_cancel_sent_after_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_order_id} {self.side} {self.quantity} {self.symbol} [{self.status}]"

    @property
    def is_working(self) -> bool:
        """True while the order can still trade or be canceled."""
        return self.status in WORKING_STATUSES

    @property
    def cancel_requested(self) -> bool:
        """Working, with a cancel requested from its engine (sent or not yet)."""
        return self.cancel_requested_at is not None and self.is_working

    @property
    def is_unknown(self) -> bool:
        """Working, but its engine run died: it may still be live at the broker (an operator resolves it)."""
        return order_is_unknown(status=self.status, flag=self.flag)

    @property
    def flags(self) -> list[str]:
        """Every flag the order carries (engine flag, overfill, future event time)."""
        return order_flags(
            flag=self.flag, overfilled=self.overfilled, future_event_time=self.future_event_time
        )

    @property
    def signed_quantity(self) -> Decimal:
        """BUY positive, SELL negative (the contract's intent quantity)."""
        return self.quantity if self.side == Side.BUY else -self.quantity

    @property
    def source(self) -> str:
        """Where the order came from (params.source)."""
        return str(self.params.get("source", ""))

    @property
    def is_manual(self) -> bool:
        """A person placed it (page, API, admin): the engine adapter hands it to the engine."""
        return self.source == SOURCE_MANUAL


class ExecutionEvent(models.Model):
    """One raw engine event, stored once by its identity (order history, dedupe, unmatched review)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Recorded, status not applied")
        UNMATCHED = "unmatched", _("No order with this tag")

    # Uniqueness and the tag index are declared in Meta: `unique=True`/`db_index=True` on a CharField also
    # build a LIKE (pattern_ops) index on PostgreSQL that nothing uses and every insert pays for.
    event_key = models.CharField(max_length=64)
    order = models.ForeignKey(
        TradeOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
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
        indexes = [models.Index(fields=["tag"], name="event_tag")]
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


class TradeFill(models.Model):
    """One fill event of an order."""

    order = models.ForeignKey(TradeOrder, on_delete=models.PROTECT, related_name="fills")
    event_key = models.CharField(max_length=64)  # unique in Meta (no LIKE index, as for ExecutionEvent)
    quantity = models.DecimalField(**QTY)
    price = models.DecimalField(**PRICE)
    fee = models.DecimalField(**MONEY, default=Decimal(0))
    fee_currency = models.CharField(max_length=8, blank=True, default="")
    filled_at = models.DateTimeField(null=True, blank=True)
    run_id = models.CharField(max_length=100, blank=True, default="")
    engine_order_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filled_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key"], name="fill_event_key_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="fill_price_nonneg"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="fill_fee_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} @ {self.price}"


class Position(models.Model):
    """tradedesk's ledger of one symbol in one project and mode, moved only by fills."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="positions")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    symbol = models.CharField(max_length=15)
    quantity = models.DecimalField(**QTY, default=Decimal(0))
    avg_cost = models.DecimalField(**PRICE, default=Decimal(0))
    realized_pnl = models.DecimalField(**NOTIONAL, default=Decimal(0))
    last_fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    last_fill_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.UniqueConstraint(fields=["project", "mode", "symbol"], name="position_unique_per_mode"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="position_mode_valid"),
            models.CheckConstraint(condition=Q(symbol__regex=SYMBOL_REGEX), name="position_symbol_format"),
            models.CheckConstraint(condition=Q(avg_cost__gte=0), name="position_avg_cost_nonneg"),
            models.CheckConstraint(
                condition=~Q(quantity=0) | Q(avg_cost=0), name="position_flat_has_no_cost"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.name}/{self.mode} {self.symbol} {self.quantity}"

    @property
    def market_value_price(self) -> Decimal | None:
        """The last known price of the symbol (the last fill)."""
        return self.last_fill_price

    @property
    def unrealized_pnl(self) -> Decimal | None:
        """(last price - average cost) * quantity, where a price is known."""
        if self.last_fill_price is None or self.quantity == 0:
            return None
        return (self.last_fill_price - self.avg_cost) * self.quantity


class ApiToken(models.Model):
    """A Bearer token for scripts; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditLog(models.Model):
    """Append-only record of every manual action."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=32)
    source_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=16, blank=True, default="")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.ForeignKey(TradeOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Refuse updates: the log only grows."""
        if self.pk is not None:
            raise ValueError("audit log entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        """Refuse deletes: the log only grows."""
        raise ValueError("audit log entries are append-only")


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
