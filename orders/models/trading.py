"""Orders: what was sent, and the execution state the engine's events leave on it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from orders.models.choices import (
    CLIENT_ORDER_ID_REGEX,
    MAX_TRAILING_PERCENT,
    MONEY,
    NOTIONAL,
    OUTSIDE_RTH_TYPES,
    PRICE,
    QTY,
    SOURCE_MANUAL,
    SYMBOL_REGEX,
    UPDATE_REFUSED_TEXT,
    WORKING_STATUSES,
    BracketRole,
    BracketState,
    Mode,
    OrderFlag,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    order_flags,
    order_is_unknown,
)
from orders.models.engine_record import EngineRecord, engine_record
from orders.models.projects import Project


class TradeOrder(models.Model):
    """One manual order; its execution state is derived from the engine's events."""

    # Unique in Meta (no LIKE index, as for ExecutionEvent); the project's index is order_project_recent's
    # leading column. Every index is written again by each update that changes the status (ingest: per batch).
    client_order_id = models.CharField(max_length=64)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="orders", db_index=False)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    symbol = models.CharField(max_length=15)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.DecimalField(**QTY)
    order_type = models.CharField(max_length=8, choices=OrderType.choices, default=OrderType.MKT)
    limit_price = models.DecimalField(**PRICE, null=True, blank=True)
    # STP / STP LMT: the trader's stop. TRAIL: the engine's current stop (it trails the market; null until the
    # engine reports it), what the risk checks value the order at.
    stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    # TRAIL: how far the stop trails the market, in price (or, trailing_as_percent, in percent of the price:
    # 5 is 5 %; LEAN takes the fraction, Common/Orders/TrailingStopOrder.cs:181-194@24863901).
    trailing_amount = models.DecimalField(**PRICE, null=True, blank=True)
    trailing_as_percent = models.BooleanField(default=False, db_default=False)
    # LIT: the price that, once touched, turns the order into a limit order at limit_price.
    trigger_price = models.DecimalField(**PRICE, null=True, blank=True)
    # Sent as LEAN's OrderProperties.TimeInForce (DAY, not LEAN's GTC default: Common/Orders/OrderProperties.cs:40-43
    # @24863901); a GTD order works until the close of its date (InteractiveBrokersBrokerage.cs:2998-3020@d154917).
    time_in_force = models.CharField(
        max_length=3, choices=TimeInForce.choices, default=TimeInForce.DAY, db_default=TimeInForce.DAY
    )
    good_till_date = models.DateField(null=True, blank=True)
    # LEAN's InteractiveBrokersOrderProperties.OutsideRegularTradingHours: may trigger and fill pre/post-market.
    outside_rth = models.BooleanField(default=False, db_default=False)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.NEW)
    filled_quantity = models.DecimalField(**QTY, default=Decimal(0))
    # Sum of quantity * price over the fills: exact, so the average never depends on arrival order.
    filled_notional = models.DecimalField(**NOTIONAL, default=Decimal(0))
    avg_fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    fees = models.DecimalField(**MONEY, default=Decimal(0))
    ib_order_id = models.BigIntegerField(null=True, blank=True)
    # The broker's own order id (LEAN's Order.BrokerId, Common/Orders/Order.cs:68@24863901; IB's order id), from
    # the engine's event lines: what re-homes the order to a new run when the engine reloads it after a restart
    # (orders/services/rehome.py), with its symbol, side and quantity, never alone.
    broker_order_id = models.CharField(max_length=64, blank=True, default="", db_default="")
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
    update_trailing_amount = models.DecimalField(**PRICE, null=True, blank=True)
    update_trigger_price = models.DecimalField(**PRICE, null=True, blank=True)
    # When the pending update was asked for: the page shows how long an engine has left it unanswered.
    update_requested_at = models.DateTimeField(null=True, blank=True)
    # The broker refused an update (the engine marked the Invalid event it emits for the order itself): the
    # order keeps its status, still working at IB until the engine says otherwise; staff clear it.
    update_refused = models.BooleanField(default=False, db_default=False, help_text=UPDATE_REFUSED_TEXT)
    update_refused_message = models.TextField(blank=True, default="", db_default="")
    # Brackets: the take-profit and stop-loss children point at their entry (parent) and are one-cancels-other;
    # the group's state is the entry's (OPEN: the engine sends the children on the entry's fills; CLOSED: a
    # cancel or a close marked it, so no child is sent afterwards), and so is the flag of an overfilled group.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", db_index=False
    )
    bracket_role = models.CharField(
        max_length=12, choices=BracketRole.choices, blank=True, default="", db_default=""
    )
    bracket_state = models.CharField(
        max_length=8, choices=BracketState.choices, blank=True, default="", db_default=""
    )
    bracket_message = models.TextField(blank=True, default="", db_default="")
    bracket_overfilled = models.BooleanField(default=False, db_default=False)
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
    created_at = models.DateTimeField(auto_now_add=True)  # indexed in Meta with the id (order_created)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every list of orders is newest first (created_at, then id): each index below ends in that order, so
        # a page is an index walk that stops after its rows, never a sort of the history (docs/benchmarks.md,
        # "History at scale"). Filters lead (project, status, symbol); a filter an index does not lead with is
        # checked on the walk: the user's few projects on the status and symbol walks (a project-leading index
        # cannot give one time order across several projects on PostgreSQL 15, so it would sort every match).
        indexes = [
            # The admin's changelist and the API's lists across a user's projects.
            models.Index(fields=["-created_at", "-id"], name="order_created"),
            # The page's recent history of one project (and every per-project read by time).
            models.Index(fields=["project", "-created_at", "-id"], name="order_project_recent"),
            # The page's blotter: working orders first, from an index as small as the working set; also the
            # limits, closes, halts and sweeps (orders_working, orders_unknown).
            models.Index(
                fields=["project", "-created_at", "-id"],
                name="order_project_working",
                condition=Q(status__in=sorted(WORKING_STATUSES)),
            ),
            # status= and symbol= of the API (and the admin's status filter, its exact symbol search); the
            # project id rides along (PostgreSQL: INCLUDE) so the API's capped count is an index-only walk.
            models.Index(
                fields=["status", "-created_at", "-id"], name="order_status_recent", include=["project"]
            ),
            models.Index(
                fields=["symbol", "-created_at", "-id"], name="order_symbol_recent", include=["project"]
            ),
            # The admin's search by the engine's order id (reconciling with the broker).
            models.Index(
                fields=["ib_order_id"], name="order_engine_id", condition=Q(ib_order_id__isnull=False)
            ),
            # Re-homing a reloaded order (orders/services/rehome.py): the working orders of a mode by broker id.
            models.Index(
                fields=["mode", "broker_order_id"],
                name="order_broker_id",
                condition=~Q(broker_order_id="") & Q(status__in=sorted(WORKING_STATUSES)),
            ),
            # A bracket's children by their entry (most orders have none: the index holds only children).
            models.Index(fields=["parent"], name="order_bracket_children", condition=Q(parent__isnull=False)),
            models.Index(
                fields=["mode", "cancel_requested_at"],
                name="order_cancel_pending",
                condition=Q(cancel_requested_at__isnull=False, cancel_sent_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["client_order_id"], name="order_client_order_id_unique"),
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
                | Q(order_type=OrderType.MOC, limit_price__isnull=True, stop_price__isnull=True)
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
                )
                # The current stop is the engine's: unknown (null) until it reports one.
                | Q(
                    Q(stop_price__isnull=True) | Q(stop_price__gt=0),
                    order_type=OrderType.TRAIL,
                    limit_price__isnull=True,
                )
                | Q(
                    order_type=OrderType.LIT,
                    limit_price__isnull=False,
                    limit_price__gt=0,
                    stop_price__isnull=True,
                ),
                name="order_prices_match_type",
            ),
            models.CheckConstraint(
                # A trailing amount (> 0; a percent below 100) on TRAIL only; a trigger (> 0) on LIT only.
                condition=(
                    Q(order_type=OrderType.TRAIL, trailing_amount__isnull=False, trailing_amount__gt=0)
                    & (
                        Q(trailing_as_percent=False)
                        | Q(trailing_as_percent=True, trailing_amount__lt=MAX_TRAILING_PERCENT)
                    )
                    | (
                        ~Q(order_type=OrderType.TRAIL)
                        & Q(trailing_amount__isnull=True, trailing_as_percent=False)
                    )
                )
                & (
                    Q(order_type=OrderType.LIT, trigger_price__isnull=False, trigger_price__gt=0)
                    | (~Q(order_type=OrderType.LIT) & Q(trigger_price__isnull=True))
                ),
                name="order_trailing_and_trigger_match_type",
            ),
            models.CheckConstraint(
                condition=~Q(order_type=OrderType.MOC) | Q(time_in_force=TimeInForce.DAY),
                name="order_market_on_close_is_day",
            ),
            models.CheckConstraint(
                condition=Q(time_in_force__in=TimeInForce.values), name="order_time_in_force_valid"
            ),
            models.CheckConstraint(
                condition=Q(time_in_force=TimeInForce.GTD, good_till_date__isnull=False)
                | (~Q(time_in_force=TimeInForce.GTD) & Q(good_till_date__isnull=True)),
                name="order_good_till_date_only_for_gtd",
            ),
            models.CheckConstraint(
                condition=Q(outside_rth=False) | Q(order_type__in=sorted(OUTSIDE_RTH_TYPES)),
                name="order_outside_rth_types",
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
                    update_trailing_amount__isnull=True,
                    update_trigger_price__isnull=True,
                ),
                name="order_update_values_only_when_pending",
            ),
            models.CheckConstraint(
                condition=Q(update_pending=False, update_requested_at__isnull=True)
                | Q(update_pending=True, update_requested_at__isnull=False),
                name="order_update_pending_has_its_request_time",
            ),
            models.CheckConstraint(
                condition=(Q(update_quantity__isnull=True) | Q(update_quantity__gt=0))
                & (Q(update_limit_price__isnull=True) | Q(update_limit_price__gt=0))
                & (Q(update_stop_price__isnull=True) | Q(update_stop_price__gt=0))
                & (Q(update_trailing_amount__isnull=True) | Q(update_trailing_amount__gt=0))
                & (Q(update_trigger_price__isnull=True) | Q(update_trigger_price__gt=0)),
                name="order_update_values_positive",
            ),
            models.CheckConstraint(
                condition=Q(cancel_sent_at__isnull=True) | Q(cancel_requested_at__isnull=False),
                name="order_cancel_sent_after_request",
            ),
            # A bracket: an entry has no parent and carries the group's state; a child has its entry, is a
            # take-profit limit or a stop-loss stop, one of each per entry; only a child is ever HELD.
            models.CheckConstraint(
                condition=Q(parent__isnull=True, bracket_role__in=["", BracketRole.ENTRY])
                | Q(parent__isnull=False, bracket_role__in=[BracketRole.TAKE_PROFIT, BracketRole.STOP_LOSS]),
                name="order_bracket_parent_matches_role",
            ),
            models.CheckConstraint(
                condition=~Q(bracket_role=BracketRole.TAKE_PROFIT) | Q(order_type=OrderType.LMT),
                name="order_bracket_take_profit_is_limit",
            ),
            models.CheckConstraint(
                condition=~Q(bracket_role=BracketRole.STOP_LOSS) | Q(order_type=OrderType.STP),
                name="order_bracket_stop_loss_is_stop",
            ),
            models.CheckConstraint(
                condition=Q(
                    bracket_role=BracketRole.ENTRY, bracket_state__in=[BracketState.OPEN, BracketState.CLOSED]
                )
                | (~Q(bracket_role=BracketRole.ENTRY) & Q(bracket_state="", bracket_overfilled=False)),
                name="order_bracket_state_on_entry",
            ),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.HELD) | Q(parent__isnull=False),
                name="order_held_only_children",
            ),
            models.UniqueConstraint(
                fields=["parent", "bracket_role"],
                name="order_bracket_one_child_per_role",
                condition=Q(parent__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.client_order_id} {self.side} {self.quantity.normalize():f} {self.symbol} [{self.status}]"
        )

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
            flag=self.flag,
            overfilled=self.overfilled,
            future_event_time=self.future_event_time,
            update_refused=self.update_refused,
            bracket_overfilled=self.bracket_overfilled,
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
    def engine_record(self) -> EngineRecord:
        """Where and how the engine adapter handed the order over (params.manual_execution)."""
        return engine_record(self.params)

    @property
    def is_bracket_child(self) -> bool:
        """A take-profit or stop-loss of a bracket: the engine places it when its entry fills."""
        return self.parent_id is not None

    @property
    def is_manual(self) -> bool:
        """A person placed it (page, API, admin): the engine adapter hands it to the engine (a bracket's
        children excepted: the engine places those itself on their entry's fills)."""
        return self.source == SOURCE_MANUAL and self.parent_id is None
