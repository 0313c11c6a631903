"""Pre-trade risk checks: each refusal is a RiskRejected with a message a trader can act on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from orders.errors import ConfirmRequired, EngineHalted, RiskRejected
from orders.models import OrderType, Position, Project, Side, TradeOrder, TradingState
from orders.selectors import orders_working
from orders.services.brackets import bracket_pending_reduction, bracket_working_slots
from orders.services.buying_power import check_buying_power
from orders.services.halts import engine_halt_locked
from orders.services.preview import farthest_price, price_bands, price_reference, trade_price
from orders.services.validation import CleanOrder


def notional_price(*, project: Project, clean: CleanOrder) -> Decimal | None:
    """The price the notional check values an order at.

    A stop order at its stop price (a stop limit at the larger of stop and limit: it may fill up to the
    limit), a trailing stop at its current stop (where it sits from the reference price when placed), a limit
    (and a limit if touched) at its limit, a market (and market on close) order at the engine's fresh market
    price, else the last fill price known for the symbol.
    """
    if clean.order_type == OrderType.TRAIL:
        reference = price_reference(project=project, symbol=clean.symbol)
        return trade_price(
            order_type=clean.order_type,
            limit_price=None,
            stop_price=clean.stop_price,
            reference=reference.price if reference is not None else None,
            side=clean.side,
            trailing_amount=clean.trailing_amount,
            trailing_as_percent=clean.trailing_as_percent,
        )
    if (
        clean.order_type == OrderType.STP_LMT
        and clean.stop_price is not None
        and clean.limit_price is not None
    ):
        return max(clean.stop_price, clean.limit_price)
    if clean.stop_price is not None:
        return clean.stop_price
    if clean.limit_price is not None:
        return clean.limit_price
    reference = price_reference(project=project, symbol=clean.symbol)
    return reference.price if reference is not None else None


def _others(exclude_order_id: int | None) -> Q:
    """Every order but the one being modified (every order when none is)."""
    return Q() if exclude_order_id is None else ~Q(pk=exclude_order_id)


def _pending_reduction(*, project: Project, symbol: str, side: str, exclude_order_id: int | None) -> Decimal:
    """What the project's working orders on this side of the symbol may still trade (quantity - filled);
    a bracket's two one-cancels-other children count once."""
    working = (
        orders_working(project=project)
        .filter(mode=project.mode, symbol=symbol, side=side)
        .filter(_others(exclude_order_id))
    )
    return bracket_pending_reduction(working)


def _percent(value: Decimal) -> str:
    """A percentage for a message: at most one decimal, no trailing zeros ("12.5", "40")."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def check_price_deviation(*, project: Project, clean: CleanOrder) -> None:
    """Refuse a limit or stop price past the hard band from the freshest market price; past the soft band,
    ask for a confirmation. The reference is the engine's fresh price, else the last fill of the symbol."""
    # A trailing stop's current stop is the engine's (it trails the market): only the trader's prices count.
    stop = None if clean.order_type == OrderType.TRAIL else clean.stop_price
    prices = [p for p in (clean.limit_price, stop, clean.trigger_price) if p is not None]
    reference = price_reference(project=project, symbol=clean.symbol) if prices else None
    if reference is None:
        return
    price, signed = farthest_price(prices, reference.price)
    deviation = abs(signed)
    soft, hard = price_bands(project=project)
    field_name = (
        "limit_price"
        if price == clean.limit_price
        else "trigger_price"
        if price == clean.trigger_price
        else "stop_price"
    )
    where = f"{_percent(deviation)}% from the market price {reference.price}"
    if deviation > hard:
        raise RiskRejected(
            f"price {price} is {where}, past the hard limit of {_percent(hard)}%",
            errors={field_name: f"price is {where} (limit {_percent(hard)}%)"},
        )
    if deviation > soft and not clean.confirm:
        raise ConfirmRequired(
            f"price {price} is {where} (more than {_percent(soft)}%); send it again with confirm to place it",
            checks=["price_deviation"],
            errors={"confirm": f"price is {where}: confirm to place it"},
        )


def check_not_halted(*, project: Project) -> None:
    """The one halt rule: while the project is HALTED or its mode's engine is halted (staff), only orders that
    reduce a position (Close, Liquidate: `closing`) pass, and the caller skips this check for those.

    The engine halt is read FOR SHARE in the caller's transaction: a halt change (FOR UPDATE) waits for this
    order to commit, and an order checked after a halt committed sees it."""
    halt = engine_halt_locked(mode=project.mode)
    if halt.halted:
        raise EngineHalted(
            f"the {project.mode.upper()} engine is halted for all projects by {halt.changed_by_name or 'staff'}: "
            f"{halt.reason}; only Close and Liquidate are allowed",
            errors={"project_id": "engine halted"},
        )
    # HALTED stops everything that may add risk; a close (or liquidation) only reduces it, so it passes.
    if project.trading_state == TradingState.HALTED:
        raise RiskRejected("trading is halted for this project", errors={"project_id": "trading halted"})


def check_new_order(
    *,
    project: Project,
    user: Any,
    clean: CleanOrder,
    closing: bool = False,
    exclude_order_id: int | None = None,
) -> None:
    """Refuse the order when any limit of the project (or the settings default) would be broken.

    The caller holds the project lock (orders.services.projects.project_lock), so the counts below cannot
    change between the check and the insert. A close (`closing`) is sized to flatten the position at its
    dispatch and cancels the symbol's working orders, so it skips halted, reduce-only, working, price-band and
    duplicate checks. A modify checks the changed order as new with `exclude_order_id` = itself (not counted
    against itself)."""
    if not closing:
        check_not_halted(project=project)
    if project.trading_state == TradingState.REDUCING and not closing:
        position = Position.objects.filter(project=project, mode=project.mode, symbol=clean.symbol).first()
        held = position.quantity if position else Decimal(0)
        # Working orders that already reduce the position count: two SELL 5 on a 5-share long never both pass.
        pending = _pending_reduction(
            project=project, symbol=clean.symbol, side=clean.side, exclude_order_id=exclude_order_id
        )
        shrinks = (clean.side == Side.SELL and held > 0 and clean.quantity + pending <= held) or (
            clean.side == Side.BUY and held < 0 and clean.quantity + pending <= -held
        )
        if not shrinks:
            raise RiskRejected(
                "the project is in reduce-only mode: only orders that shrink a position are allowed",
                errors={"quantity": "reduce-only: the order must shrink the position"},
            )
    max_quantity = project.max_order_quantity or settings.TRADEDESK_MAX_ORDER_QUANTITY
    if clean.quantity > max_quantity:
        raise RiskRejected(
            f"quantity {clean.quantity} is above the project's limit of {max_quantity}",
            errors={"quantity": f"must be at most {max_quantity}"},
        )
    price = notional_price(project=project, clean=clean)
    max_notional = project.max_order_notional or settings.TRADEDESK_MAX_ORDER_NOTIONAL
    if price is not None and clean.quantity * price > max_notional:
        raise RiskRejected(
            f"order value {clean.quantity * price:,.2f} is above the project's limit of {max_notional:,.2f}",
            errors={"quantity": f"order value must be at most {max_notional:,.2f}"},
        )
    if not closing:
        max_working = project.max_working_orders or settings.TRADEDESK_MAX_WORKING_ORDERS
        # Siblings count once; a new bracket counts its entry and the group its children will make.
        working = bracket_working_slots(orders_working(project=project).filter(_others(exclude_order_id)))
        needed = 2 if clean.is_bracket else 1
        if working + needed > max_working:
            raise RiskRejected(
                f"the project already has {working} working orders (limit {max_working})",
                errors={"project_id": "too many working orders"},
            )
    now = timezone.now()
    if user is not None and getattr(user, "is_authenticated", False):
        per_minute = project.max_orders_per_minute or settings.TRADEDESK_MAX_ORDERS_PER_MINUTE
        recent = TradeOrder.objects.filter(
            created_by=user, created_at__gte=now - timedelta(minutes=1)
        ).count()
        if recent >= per_minute:
            raise RiskRejected(
                f"you placed {recent} orders in the last minute (limit {per_minute}); wait a moment",
                errors={"quantity": "order rate limit reached"},
            )
    if not closing:
        check_price_deviation(project=project, clean=clean)
        check_buying_power(project=project, clean=clean, price=price, exclude_order_id=exclude_order_id)
    window = settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS
    if window > 0 and not clean.confirm and not closing:
        duplicate = (
            TradeOrder.objects.filter(
                project=project,
                symbol=clean.symbol,
                side=clean.side,
                quantity=clean.quantity,
                order_type=clean.order_type,
                limit_price=clean.limit_price,
                stop_price=clean.stop_price,
                trailing_amount=clean.trailing_amount,
                trailing_as_percent=clean.trailing_as_percent,
                trigger_price=clean.trigger_price,
                created_at__gte=now - timedelta(seconds=window),
            )
            .filter(_others(exclude_order_id))
            .exists()
        )
        if duplicate:
            raise ConfirmRequired(
                f"the same order ({clean.side} {clean.quantity} {clean.symbol}) was placed seconds ago; "
                "send it again with confirm to place it anyway",
                checks=["duplicate"],
                errors={"confirm": "duplicate order: confirm to place it"},
            )
