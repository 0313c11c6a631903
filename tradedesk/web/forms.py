"""Forms of the live-trade page: they bind and render raw input; orders.services validates it."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.errors import EngineHalted, TradedeskError
from orders.models import (
    LIMIT_PRICE_TYPES,
    OUTSIDE_RTH_TYPES,
    STOP_PRICE_TYPES,
    SYMBOL_REGEX,
    TRAILING_TYPES,
    TRIGGER_PRICE_TYPES,
    OrderType,
    Side,
    TimeInForce,
)
from tradedesk.web.reasons import translate_reason

# Service field names -> form field names (what is not a form field is shown above the form).
FIELD_MAP = {
    "symbol": "symbol",
    "side": "side",
    "quantity": "quantity",
    "order_type": "order_type",
    "limit_price": "limit_price",
    "stop_price": "stop_price",
    "trailing_amount": "trailing_amount",
    "trailing_as_percent": "trailing_as_percent",
    "trigger_price": "trigger_price",
    "time_in_force": "time_in_force",
    "good_till_date": "good_till_date",
    "outside_rth": "outside_rth",
    "project_id": "project",
    "client_order_id": "client_order_id",
    "confirm": "confirm",
    "take_profit_price": "take_profit",
    "take_profit_offset": "take_profit",
    "stop_loss_price": "stop_loss",
    "stop_loss_offset": "stop_loss",
}
# How the ticket's take profit / stop loss reads: a price, or an offset from the entry's price.
LEG_KINDS = (("price", _("at price")), ("offset", _("offset from entry")))


def translate_refusal(error: TradedeskError) -> str:
    """A service refusal in the active language: each named field with its reason, else the message."""
    # An engine halt names who halted it and why: the whole message, not the field's short reason.
    if not error.errors or isinstance(error, EngineHalted):
        return translate_reason(error.message)
    parts = []
    for field, reason in error.errors.items():
        form_field = OrderForm.base_fields.get(FIELD_MAP.get(field, ""))
        label = form_field.label if form_field is not None else None
        # A field without a label (project_id: a halt, too many working orders) is never named to a trader.
        parts.append(f"{label}: {translate_reason(reason)}" if label else translate_reason(reason))
    return "; ".join(parts)


class OrderForm(forms.Form):
    """The order ticket (and the positions rows' Buy / Sell): raw strings handed to create_trade_order."""

    project = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    client_order_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    symbol = forms.CharField(
        label=_("Symbol"),
        required=False,
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters", "size": 8}
        ),
    )
    side = forms.ChoiceField(
        label=_("Side"), required=False, choices=[(Side.BUY, _("Buy")), (Side.SELL, _("Sell"))]
    )
    quantity = forms.CharField(
        label=_("Quantity"),
        required=False,
        max_length=40,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric", "autocomplete": "off"}),
    )
    order_type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[(value, value) for value in OrderType.values],
        initial="MKT",
    )
    limit_price = forms.CharField(
        label=_("Limit price"),
        required=False,
        max_length=40,
        widget=forms.NumberInput(
            attrs={"min": 0, "step": "any", "inputmode": "decimal", "autocomplete": "off"}
        ),
    )
    stop_price = forms.CharField(
        label=_("Stop price"),
        required=False,
        max_length=40,
        widget=forms.NumberInput(
            attrs={"min": 0, "step": "any", "inputmode": "decimal", "autocomplete": "off"}
        ),
    )
    trailing_amount = forms.CharField(
        label=_("Trailing amount"),
        required=False,
        max_length=40,
        widget=forms.NumberInput(
            attrs={"min": 0, "step": "any", "inputmode": "decimal", "autocomplete": "off"}
        ),
    )
    trailing_as_percent = forms.BooleanField(label=_("Trail by percent"), required=False)
    trigger_price = forms.CharField(
        label=_("Trigger price"),
        required=False,
        max_length=40,
        widget=forms.NumberInput(
            attrs={"min": 0, "step": "any", "inputmode": "decimal", "autocomplete": "off"}
        ),
    )
    # A bracket (optional): a take-profit limit and a stop-loss stop, each a price or an offset from the entry.
    take_profit = forms.CharField(label=_("Take profit"), required=False, max_length=40)
    take_profit_kind = forms.ChoiceField(choices=LEG_KINDS, required=False, initial="price")
    stop_loss = forms.CharField(label=_("Stop loss"), required=False, max_length=40)
    stop_loss_kind = forms.ChoiceField(choices=LEG_KINDS, required=False, initial="price")
    time_in_force = forms.ChoiceField(
        label=_("Time in force"), required=False, choices=TimeInForce.choices, initial=TimeInForce.DAY
    )
    good_till_date = forms.CharField(label=_("Good till"), required=False, max_length=10)
    outside_rth = forms.BooleanField(label=_("Outside regular hours"), required=False)
    confirm = forms.BooleanField(label=_("Place anyway"), required=False)

    def payload(self, *, project_id: int, mode: str) -> dict[str, Any]:
        """The create_trade_order payload of the bound input."""
        data = self.cleaned_data
        order_type = data.get("order_type") or OrderType.MKT
        tif = data.get("time_in_force") or TimeInForce.DAY
        trailing = order_type in TRAILING_TYPES
        return {
            "project_id": project_id,
            "mode": mode,
            "client_order_id": data.get("client_order_id") or None,
            "symbol": data.get("symbol") or "",
            "side": data.get("side") or "",
            "quantity": data.get("quantity") or None,
            "order_type": order_type,
            "limit_price": (data.get("limit_price") or None) if order_type in LIMIT_PRICE_TYPES else None,
            "stop_price": (data.get("stop_price") or None) if order_type in STOP_PRICE_TYPES else None,
            "trailing_amount": (data.get("trailing_amount") or None) if trailing else None,
            "trailing_as_percent": bool(data.get("trailing_as_percent")) and trailing,
            "trigger_price": (data.get("trigger_price") or None)
            if order_type in TRIGGER_PRICE_TYPES
            else None,
            **self._legs(),
            "time_in_force": tif,
            # Only what the ticket shows is sent: the date of a GTD order, the checkbox of a type that has it.
            "good_till_date": (data.get("good_till_date") or None) if tif == TimeInForce.GTD else None,
            "outside_rth": bool(data.get("outside_rth")) and order_type in OUTSIDE_RTH_TYPES,
            "confirm": bool(data.get("confirm")),
            # The page's click time (ms since the epoch, desk.js): the order's stage times, clamped there.
            "clicked_at": self.data.get("clicked_at") or None,
        }

    @property
    def bracket_legs(self) -> list[tuple[str, str, Any, Any, Any]]:
        """The ticket's bracket fields: (name, label, value, kind, errors) of the take profit and stop loss."""
        return [
            (leg, str(self[leg].label), self[leg].value(), self[f"{leg}_kind"].value(), self[leg].errors)
            for leg in ("take_profit", "stop_loss")
        ]

    def _legs(self) -> dict[str, Any]:
        """The bracket's legs as the service takes them: `<leg>_price` or `<leg>_offset`, when typed."""
        legs: dict[str, Any] = {}
        for leg in ("take_profit", "stop_loss"):
            value = (self.cleaned_data.get(leg) or "").strip()
            if value:
                kind = "offset" if self.cleaned_data.get(f"{leg}_kind") == "offset" else "price"
                legs[f"{leg}_{kind}"] = value
        return legs

    def add_service_error(self, exc: TradedeskError) -> None:
        """Show a service refusal next to the fields it names, else above the form."""
        # An engine halt names who halted it and why: the whole message, not the field's short reason.
        if not exc.errors or isinstance(exc, EngineHalted):
            self.add_error(None, translate_reason(exc.message))
            return
        for key, reason in exc.errors.items():
            field = FIELD_MAP.get(key)
            self.add_error(field if field in self.fields else None, translate_reason(reason))

    @property
    def order_type_values(self) -> list[str]:
        """Every order type the ticket offers (the template's first render selects MKT for anything else)."""
        return list(OrderType.values)

    @property
    def field_types(self) -> dict[str, str]:
        """The order types each price field of the ticket is shown for, as JSON (desk.js reads them)."""
        return {
            "limit": json.dumps(sorted(LIMIT_PRICE_TYPES)),
            "stop": json.dumps(sorted(STOP_PRICE_TYPES)),
            "trailing": json.dumps(sorted(TRAILING_TYPES)),
            "trigger": json.dumps(sorted(TRIGGER_PRICE_TYPES)),
        }

    @property
    def outside_rth_types(self) -> str:
        """The order types the ticket shows the outside-RTH checkbox for, as JSON (desk.js reads it)."""
        return json.dumps(sorted(OUTSIDE_RTH_TYPES))

    @property
    def outside_rth_type_list(self) -> list[str]:
        """The same types as a list (the template's first render)."""
        return sorted(OUTSIDE_RTH_TYPES)

    @property
    def needs_confirm(self) -> bool:
        """True when the service asked for confirmation (the same order was placed seconds ago)."""
        return self.is_bound and "confirm" in self.errors


class TimeZoneForm(forms.Form):
    """The trader's time zone (an IANA name; orders.services.time_zone_remember decides if it is known)."""

    time_zone = forms.CharField(max_length=64, label=_("Time zone"))

    def refuse(self) -> None:
        """The zone is not one zoneinfo knows."""
        self.add_error("time_zone", _("Unknown time zone: choose one from the list."))


class ColoursForm(forms.Form):
    """The trader's colour convention (orders.services.colour_convention_remember decides if it is one)."""

    colours = forms.CharField(max_length=16, label=_("Colours"))

    def refuse(self) -> None:
        """Not one of the conventions offered."""
        self.add_error("colours", _("Unknown colour convention: choose one from the list."))


def _positive(raw: Any) -> Decimal | None:
    """A positive finite number below 1e13 from a query value, else None (half-typed input is normal)."""
    try:
        number = Decimal(str(raw or "").strip()[:40])
    except InvalidOperation:
        return None
    return number if number.is_finite() and 0 < number < Decimal("1e13") else None


def preview_input(data: Any) -> dict[str, Any]:
    """The ticket as typed so far, for its value preview: what does not parse is left out, never an error."""
    symbol = str(data.get("symbol") or "").strip().upper()[:32]
    order_type = str(data.get("order_type") or "")
    return {
        "symbol": symbol if re.fullmatch(SYMBOL_REGEX, symbol) else "",
        "quantity": _positive(data.get("quantity")),
        "order_type": order_type if order_type in OrderType.values else OrderType.MKT,
        "limit_price": _positive(data.get("limit_price")),
        "stop_price": _positive(data.get("stop_price")),
        "side": "SELL" if str(data.get("side") or "").upper() == "SELL" else "BUY",
        "trailing_amount": _positive(data.get("trailing_amount")),
        "trailing_as_percent": data.get("trailing_as_percent") == "on",
        "trigger_price": _positive(data.get("trigger_price")),
        "legs": {
            leg: (
                (None, _positive(data.get(leg)))
                if data.get(f"{leg}_kind") == "offset"
                else (_positive(data.get(leg)), None)
            )
            for leg in ("take_profit", "stop_loss")
            if _positive(data.get(leg)) is not None
        },
    }
