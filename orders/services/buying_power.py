"""Buying power before an order: what the order would leave of the IB account's buying power (the preview)
and the confirmation an order asks for when its value is more than what is left (the broker has the last
word: never a hard limit)."""

from __future__ import annotations

from decimal import Decimal

from orders.errors import ConfirmRequired
from orders.models import Position, Project, Side
from orders.selectors import orders_working
from orders.services.market import buying_power_fresh
from orders.services.preview import price_reference, trade_price
from orders.services.validation import CleanOrder


def working_orders_value(*, project: Project, exclude_order_id: int | None = None) -> Decimal:
    """What the project's working orders may still trade, valued at their limit / stop (a trailing stop at its
    current stop), else the reference price (a market order waiting for the open, a market on close): the
    buying power they will take when they fill."""
    total = Decimal(0)
    # A bracket's children reduce the position their entry makes: they take no buying power.
    working = orders_working(project=project).filter(mode=project.mode, parent__isnull=True)
    if exclude_order_id is not None:
        working = working.exclude(pk=exclude_order_id)
    for order in working.only(
        "symbol",
        "side",
        "quantity",
        "filled_quantity",
        "limit_price",
        "stop_price",
        "order_type",
        "trailing_amount",
        "trailing_as_percent",
    ):
        price = trade_price(
            order_type=order.order_type,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            reference=None,
            side=order.side,
        )
        if price is None:
            reference = price_reference(project=project, symbol=order.symbol)
            price = trade_price(
                order_type=order.order_type,
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                reference=reference.price if reference is not None else None,
                side=order.side,
                trailing_amount=order.trailing_amount,
                trailing_as_percent=order.trailing_as_percent,
            )
        if price is not None:
            total += (order.quantity - order.filled_quantity) * price
    return total


def buying_power_left(*, project: Project, exclude_order_id: int | None = None) -> Decimal | None:
    """The account's fresh buying power less what the project's working orders will take; None when the
    engine has no fresh account snapshot."""
    power = buying_power_fresh(mode=project.mode)
    if power is None:
        return None
    return power - working_orders_value(project=project, exclude_order_id=exclude_order_id)


def order_reduces_position(*, project: Project, clean: CleanOrder) -> bool:
    """A sell of at most a long, or a buy of at most a short: it frees buying power rather than taking it."""
    position = Position.objects.filter(project=project, mode=project.mode, symbol=clean.symbol).first()
    held = position.quantity if position else Decimal(0)
    if clean.side == Side.SELL:
        return held > 0 and clean.quantity <= held
    return held < 0 and clean.quantity <= -held


def check_buying_power(
    *, project: Project, clean: CleanOrder, price: Decimal | None, exclude_order_id: int | None = None
) -> None:
    """Ask for confirmation (check `buying_power`) when the order's value is more than the buying power left.

    Run by risk.check_new_order under the project's lock, so two orders of the project that each fit but
    together do not cannot both pass unconfirmed: the second sees the first among the working orders."""
    if clean.confirm or price is None or order_reduces_position(project=project, clean=clean):
        return
    left = buying_power_left(project=project, exclude_order_id=exclude_order_id)
    value = clean.quantity * price
    if left is not None and value > left:
        raise ConfirmRequired(
            f"order value {value:,.2f} is more than the account's buying power left ({left:,.2f}); "
            "the broker may refuse it: send it again with confirm to place it",
            checks=["buying_power"],
            errors={"confirm": f"order value is more than the buying power left ({left:,.2f})"},
        )
