"""The service's reasons and the engine's statuses and messages in the trader's language (the page, the API's
translated errors and the admin read them through translate_reason)."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import OrderStatus
from tradedesk.web.order_type_reasons import ORDER_TYPE_PATTERNS, ORDER_TYPE_REASONS

# The service's reasons, marked for translation so the page shows them in the trader's language.
SERVICE_REASONS = {
    **ORDER_TYPE_REASONS,
    "required": _("required"),
    "the update was refused by the engine, see engine.log": _(
        "the update was refused by the engine, see engine.log"
    ),
    "must be a number": _("must be a number"),
    "must be finite": _("must be a number"),
    "must be greater than 0": _("must be greater than 0"),
    "required for a limit order": _("required for a limit order"),
    "only a limit order has a limit price": _("only a limit order has a limit price"),
    "must be BUY or SELL": _("must be BUY or SELL"),
    "must be MKT or LMT": _("must be MKT or LMT"),
    "must be MKT, LMT, STP or STP LMT": _("must be MKT, LMT, STP or STP LMT"),
    "required for a stop order": _("required for a stop order"),
    "only a stop order has a stop price": _("only a stop order has a stop price"),
    "must be a project id": _("unknown project"),
    "trading halted": _("trading is halted for this project"),
    "too many working orders": _("too many working orders"),
    "order rate limit reached": _("order rate limit reached"),
    "duplicate order: confirm to place it": _("the same order was placed seconds ago: tick “place anyway”"),
    "reduce-only: the order must shrink the position": _("reduce-only: the order must shrink the position"),
    "must be whole shares (lot size 1)": _("must be whole shares (lot size 1)"),
    "must be 1-15 letters, digits or dots, starting with a letter": _(
        "must be 1-15 letters, digits or dots, starting with a letter"
    ),
    "must be 1-64 letters, digits, '_', '.' or '-'": _("invalid idempotency key; reload the page"),
    "switching to LIVE needs the orders.trade_live permission": _(
        "Switching to LIVE needs the orders.trade_live permission."
    ),
    "the project has working orders; cancel them before switching mode": _(
        "The project has working orders; cancel them before switching mode."
    ),
    "engine halted": _("the engine of this mode is halted for all projects"),
    "say why the engine is halted": _("Say why the engine is halted."),
    "halting or resuming an engine needs staff status or the orders.halt_engine permission": _(
        "Halting or resuming an engine needs staff status or the orders.halt_engine permission."
    ),
    # Modify refusals (orders/services/modify.py, execution/actions/modify.py).
    "a cancel is pending for this order: it cannot be modified": _(
        "a cancel is pending for this order: it cannot be modified"
    ),
    "the engine run that held this order is down: it cannot be modified until staff resolve it": _(
        "the engine run that held this order is down: it cannot be modified until staff resolve it"
    ),
    "the order has not been sent to an engine yet; try again in a moment": _(
        "the order has not been sent to an engine yet; try again in a moment"
    ),
    "the engine has not acknowledged this order yet; try again in a moment": _(
        "the engine has not acknowledged this order yet; try again in a moment"
    ),
    "an update of this order is already pending": _("an update of this order is already pending"),
    "the order is overfilled: it cannot be modified": _("the order is overfilled: it cannot be modified"),
    "a bracket's leg is sent when its entry fills: it can be modified then": _(
        "a bracket's leg is sent when its entry fills: it can be modified then"
    ),
    "a bracket's leg is sent when its entry fills: cancel the entry to cancel the whole bracket": _(
        "a bracket's leg is sent when its entry fills: cancel the entry to cancel the whole bracket"
    ),
    "the engine run that holds this order is no longer running: it cannot be modified": _(
        "the engine run that holds this order is no longer running: it cannot be modified"
    ),
    "the engine stopped before reading the update: the order is unchanged": _(
        "the engine stopped before reading the update: the order is unchanged"
    ),
    "nothing to change: give a new quantity or price": _("nothing to change: give a new quantity or price"),
    "must be on the other side of the entry from the take profit": _(
        "must be on the other side of the entry from the take profit"
    ),
    "no entry price to count from: give an absolute price, or wait for a market price": _(
        "no entry price to count from: give an absolute price, or wait for a market price"
    ),
    "a bracket leg's quantity follows its entry's fills: change its price only": _(
        "a bracket leg's quantity follows its entry's fills: change its price only"
    ),
    "no update is pending for this order": _("no update is pending for this order"),
    # Time in force and outside regular hours (orders/services/time_in_force.py).
    "must be DAY, GTC or GTD": _("must be DAY, GTC or GTD"),
    "required for a GTD order": _("required for a GTD order: choose its date"),
    "must be a date (YYYY-MM-DD)": _("must be a date (YYYY-MM-DD)"),
    "must not be in the past: a GTD order expires at the close (16:00 New York) of its date": _(
        "must not be in the past: a GTD order expires at the close (16:00 New York) of its date"
    ),
    "only a GTD order has a good_till_date": _("only a GTD order has a date"),
    "must be true or false": _("must be true or false"),
}

# Reasons carrying numbers: the pattern of the service's text and its message in the active language.
PATTERNED_REASONS = (
    *ORDER_TYPE_PATTERNS,
    (
        re.compile(
            r"the (?P<mode>[A-Z]+) engine is halted for all projects by (?P<who>[^:]*): (?P<reason>.*); "
            r"only Close and Liquidate are allowed",
            re.DOTALL,
        ),
        _(
            "The %(mode)s engine is halted for all projects by %(who)s: %(reason)s. "
            "Only Close and Liquidate are allowed."
        ),
    ),
    (re.compile(r"must be on the tick of (?P<tick>[0-9.]+)"), _("must be on the tick of %(tick)s")),
    (
        re.compile(r"must be above the entry's (?P<price>[0-9.]+) for a (?P<side>BUY|SELL)"),
        _("must be above the entry's %(price)s for a %(side)s"),
    ),
    (
        re.compile(r"must be below the entry's (?P<price>[0-9.]+) for a (?P<side>BUY|SELL)"),
        _("must be below the entry's %(price)s for a %(side)s"),
    ),
    (
        re.compile(
            r"IB does not accept outside regular hours on a (?P<type>[A-Z ]+) order \(only (?P<types>[A-Z ,]+)\)"
        ),
        _("IB does not accept outside regular hours on a %(type)s order (only %(types)s)"),
    ),
    (
        re.compile(r"order value is more than the buying power left \((?P<left>-?[0-9,.]+)\)"),
        _("order value is more than the buying power left (%(left)s): tick “place anyway” to send it"),
    ),
    (
        re.compile(
            r"price is (?P<pct>[0-9.]+)% from the market price (?P<price>[0-9.]+) \(limit (?P<limit>[0-9.]+)%\)"
        ),
        _("price is %(pct)s%% from the market price %(price)s (limit %(limit)s%%)"),
    ),
    (
        re.compile(
            r"price is (?P<pct>[0-9.]+)% from the market price (?P<price>[0-9.]+): confirm to place it"
        ),
        _("price is %(pct)s%% from the market price %(price)s: tick “place anyway” to send it"),
    ),
    (
        re.compile(r"order is (?P<status>[A-Z_]+) and cannot be modified"),
        _("order is %(status)s and cannot be modified"),
    ),
    (
        re.compile(r"must be more than the (?P<filled>[0-9.]+) already filled"),
        _("must be more than the %(filled)s already filled"),
    ),
    (
        re.compile(r"the engine refused the update: (?P<message>.*)", re.S),
        _("the engine refused the update: %(message)s"),
    ),
    (
        re.compile(r"the update could not be sent to the engine: (?P<message>.*)", re.S),
        _("the update could not be sent to the engine: %(message)s"),
    ),
    (  # execution.dispatch.engine_down_reason
        re.compile(
            r"the (?P<mode>PAPER|LIVE) engine is down \((?P<why>.*)\) and nothing starts it for an order here "
            r"\(TRADEDESK_ENGINE_AUTOSTART is off\): staff start it with `(?P<command>[^`]*)` or Start engine "
            r"on the page; nothing was placed",
            re.S,
        ),
        _(
            "the %(mode)s engine is down (%(why)s) and nothing starts it for an order here: staff start it with "
            "`%(command)s` or Start engine on the page; nothing was placed"
        ),
    ),
)


# An order's timeline: LEAN's status names (its events) and tradedesk's own, in the active language.
EVENT_STATUSES = {
    "New": _("New"),
    "None": _("New"),
    "Submitted": _("Submitted"),
    "UpdateSubmitted": _("Update submitted"),
    "PartiallyFilled": _("Partially filled"),
    "Filled": _("Filled"),
    "Fill": _("Fill"),
    "CancelPending": _("Cancel pending"),
    "Canceled": _("Canceled"),
    "Invalid": _("Invalid"),
}
# The engine's and tradedesk's messages on those events, and where an order came from.
EVENT_MESSAGES = {
    "seeded": _("seeded"),
    "manual": _("manual"),
    "seed": _("seeded"),
    "cancel requested": _("cancel requested"),
    "Canceled by CancelOrderCommand": _("canceled by a cancel command"),
    "the engine accepted the order but sent no event": _("the engine accepted the order but sent no event"),
    "handed to the engine but no event came back": _("handed to the engine but no event came back"),
    "engine process is gone and left no exit record": _("engine process is gone and left no exit record"),
    "the engine stopped before reading the update": _("the engine stopped before reading the update"),
    "refused by the engine, see engine.log": _("refused by the engine, see engine.log"),
    # The simulator's cancel at an order's expiry (execution/contract/market_hours.py expiry_message).
    "DAY order canceled at the close (16:00 New York)": _("DAY order canceled at the close (16:00 New York)"),
    "DAY order canceled at the after-hours close (20:00 New York)": _(
        "DAY order canceled at the after-hours close (20:00 New York)"
    ),
    "GTD order expired at the close of its date (16:00 New York)": _(
        "GTD order expired at the close of its date (16:00 New York)"
    ),
}


def translate_status(status: str) -> str:
    """A timeline status (LEAN's name or tradedesk's) in the active language; unknown ones as they are."""
    if status in OrderStatus.values:
        return str(OrderStatus(status).label)
    known = EVENT_STATUSES.get(status)
    return str(known) if known is not None else status


def translate_message(message: str) -> str:
    """An engine or tradedesk message of the timeline in the active language (else as a service reason)."""
    known = EVENT_MESSAGES.get(message)
    return str(known) if known is not None else translate_reason(message)


def translate_reason(reason: str) -> str:
    """A service reason in the active language (unknown reasons are shown as they are)."""
    known = SERVICE_REASONS.get(reason)
    if known is not None:
        return str(known)
    for pattern, message in PATTERNED_REASONS:
        match = pattern.fullmatch(reason)
        if match is not None:
            values = match.groupdict()
            if values.get("status") in OrderStatus.values:
                values["status"] = str(OrderStatus(values["status"]).label)
            return str(message) % values
    if reason.startswith("must be at most "):
        return gettext("must be at most %(limit)s") % {"limit": reason.removeprefix("must be at most ")}
    if reason.startswith("order value must be at most "):
        return gettext("order value must be at most %(limit)s") % {
            "limit": reason.removeprefix("order value must be at most ")
        }
    if reason.startswith("at most ") and reason.endswith(" decimal places"):
        return gettext("at most %(places)s decimal places") % {
            "places": reason.removeprefix("at most ").removesuffix(" decimal places")
        }
    return reason
