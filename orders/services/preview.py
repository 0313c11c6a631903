"""What a trader sees before sending: the price an order would trade at, its value and its distance from the
market, measured against the same reference price the risk check's bands use."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from orders.models import PRICE_PLACES, OrderType, Position, Project, Side, TradeFill
from orders.services.market import market_price_fresh
from orders.services.validation import equity_tick

MARKET = "market"
LAST_FILL = "last_fill"
# A limit or stop this many times the reference (or less than its inverse) reads as "10x last", not a percentage.
RATIO_SHOWN_FROM = Decimal(2)
SOFT = "soft"
HARD = "hard"


@dataclass(frozen=True)
class PriceReference:
    """The price a new order is measured against, and where it came from (MARKET or LAST_FILL)."""

    price: Decimal
    source: str


@dataclass(frozen=True)
class OrderPreview:
    """An order as the ticket previews it; every field None when it cannot be known yet."""

    symbol: str
    quantity: Decimal | None
    price: Decimal | None  # the price the order would trade at
    value: Decimal | None  # quantity x price
    reference: PriceReference | None
    deviation_pct: Decimal | None  # signed: the limit/stop farthest from the reference, vs the reference
    ratio: Decimal | None  # price / reference, when it is past RATIO_SHOWN_FROM either way
    band: str  # "" inside the soft band, SOFT past it (confirm asked), HARD past the hard band (refused)
    legs: tuple[PreviewLeg, ...] = ()  # a bracket's take profit and stop loss, as typed so far


TAKE_PROFIT, STOP_LOSS = "take_profit", "stop_loss"


@dataclass(frozen=True)
class PreviewLeg:
    """One leg of a bracket in the preview: its price and what it makes (or loses) against the entry."""

    role: str  # TAKE_PROFIT | STOP_LOSS
    price: Decimal
    pnl: Decimal | None  # signed: (leg - entry) x quantity for a buy, the other way for a sell


def bracket_leg_price(
    *, base: Decimal | None, side: str, role: str, price: Decimal | None, offset: Decimal | None
) -> Decimal | None:
    """A leg's absolute price: as given, or `offset` from the entry's price (a buy's take profit above it, its
    stop loss below; a sell's the other way round), on the equity tick (the one rule: brackets uses it)."""
    if price is not None:
        return price
    if offset is None or base is None:
        return None
    up = Decimal(1) if side == Side.BUY else Decimal(-1)
    raw = base + (up if role == TAKE_PROFIT else -up) * offset
    tick = equity_tick(raw) if raw > 0 else equity_tick(base)
    return (raw / tick).quantize(Decimal(1)) * tick


def last_known_price(*, project: Project, symbol: str) -> Decimal | None:
    """The project's last fill price of the symbol, else the desk's last fill price of it in the project's mode
    (a paper fill's simulated price never measures a live order)."""
    position = Position.objects.filter(project=project, mode=project.mode, symbol=symbol).first()
    if position is not None and position.last_fill_price is not None:
        return position.last_fill_price
    fill = (
        TradeFill.objects.filter(order__symbol=symbol, order__mode=project.mode)
        .order_by("-filled_at", "-id")
        .first()
    )
    return fill.price if fill is not None else None


def price_reference(*, project: Project, symbol: str) -> PriceReference | None:
    """The engine's fresh market price of the symbol, else its last fill price; None when neither is known."""
    fresh = market_price_fresh(mode=project.mode, symbol=symbol)
    if fresh is not None and fresh > 0:
        return PriceReference(price=fresh, source=MARKET)
    last = last_known_price(project=project, symbol=symbol)
    if last is not None and last > 0:
        return PriceReference(price=last, source=LAST_FILL)
    return None


def price_bands(*, project: Project) -> tuple[Decimal, Decimal]:
    """The project's (soft, hard) price bands in percent, else the desk's defaults."""
    soft = project.price_band_soft_pct or settings.TRADEDESK_PRICE_BAND_SOFT_PCT
    hard = project.price_band_hard_pct or settings.TRADEDESK_PRICE_BAND_HARD_PCT
    return soft, hard


def farthest_price(prices: list[Decimal], reference: Decimal) -> tuple[Decimal, Decimal]:
    """The price farthest from the reference and its signed deviation from it in percent."""
    price = max(prices, key=lambda p: abs(p - reference))
    return price, (price - reference) / reference * 100


def trailing_stop(*, side: str, reference: Decimal, trailing_amount: Decimal, as_percent: bool) -> Decimal:
    """Where a trailing stop placed now sits: LEAN's TrailingStopOrder.CalculateStopPrice (a buy above the market,
    a sell below it; Common/Orders/TrailingStopOrder.cs:181-194@24863901), a percent as tradedesk keeps it
    (5 is 5 %, LEAN's 0.05)."""
    distance = reference * trailing_amount / 100 if as_percent else trailing_amount
    stop = reference + distance if side == Side.BUY else reference - distance
    return stop.quantize(PRICE_PLACES)


def trade_price(
    *,
    order_type: str,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    reference: Decimal | None,
    side: str = Side.BUY,
    trailing_amount: Decimal | None = None,
    trailing_as_percent: bool = False,
) -> Decimal | None:
    """The price an order would trade at: its limit (LMT, STP LMT, LIT), its stop (STP), a trailing stop's
    current stop (the engine's, else where it would sit from the reference), else the reference (MKT, MOC)."""
    if order_type in (OrderType.LMT, OrderType.STP_LMT, OrderType.LIT):
        return limit_price
    if order_type == OrderType.STP:
        return stop_price
    if order_type == OrderType.TRAIL:
        if stop_price is not None or reference is None or trailing_amount is None:
            return stop_price
        return trailing_stop(
            side=side, reference=reference, trailing_amount=trailing_amount, as_percent=trailing_as_percent
        )
    return reference


def order_preview(
    *,
    project: Project,
    symbol: str,
    quantity: Decimal | None,
    order_type: str,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    side: str = Side.BUY,
    legs: dict[str, tuple[Decimal | None, Decimal | None]] | None = None,
    trailing_amount: Decimal | None = None,
    trailing_as_percent: bool = False,
    trigger_price: Decimal | None = None,
) -> OrderPreview:
    """The value of an order as typed so far and how far its limit/stop is from the market (informational:
    the risk check still enforces the bands when it is placed)."""
    limit = limit_price if order_type in (OrderType.LMT, OrderType.STP_LMT, OrderType.LIT) else None
    stop = stop_price if order_type in (OrderType.STP, OrderType.STP_LMT) else None
    trigger = trigger_price if order_type == OrderType.LIT else None
    reference = price_reference(project=project, symbol=symbol) if symbol else None
    price = trade_price(
        order_type=order_type,
        limit_price=limit,
        stop_price=stop,
        reference=reference.price if reference else None,
        side=side,
        trailing_amount=trailing_amount if order_type == OrderType.TRAIL else None,
        trailing_as_percent=trailing_as_percent,
    )
    value = quantity * price if quantity is not None and price is not None else None
    deviation = ratio = None
    band = ""
    # A trailing stop's stop follows the market by its amount: no distance of its own to measure.
    entered = [p for p in (limit, stop, trigger) if p is not None]
    if reference is not None and entered:
        farthest, deviation = farthest_price(entered, reference.price)
        multiple = farthest / reference.price
        if multiple >= RATIO_SHOWN_FROM or multiple <= 1 / RATIO_SHOWN_FROM:
            ratio = multiple
        soft, hard = price_bands(project=project)
        band = HARD if abs(deviation) > hard else SOFT if abs(deviation) > soft else ""
    previewed = []
    for role, (leg_price, leg_offset) in (legs or {}).items():
        at = bracket_leg_price(base=price, side=side, role=role, price=leg_price, offset=leg_offset)
        if at is None or at <= 0:
            continue
        sign = Decimal(1) if side == Side.BUY else Decimal(-1)
        pnl = (at - price) * quantity * sign if price is not None and quantity is not None else None
        previewed.append(PreviewLeg(role=role, price=at, pnl=pnl))
    return OrderPreview(
        legs=tuple(previewed),
        symbol=symbol,
        quantity=quantity,
        price=price,
        value=value,
        reference=reference,
        deviation_pct=deviation,
        ratio=ratio,
        band=band,
    )
