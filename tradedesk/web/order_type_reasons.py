"""The service's reasons about trailing stops, market on close and limit if touched, in the trader's language
(reasons.translate_reason reads them with the others)."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

ORDER_TYPE_REASONS = {
    "must be MKT, LMT, STP, STP LMT, TRAIL, MOC or LIT": _(
        "must be MKT, LMT, STP, STP LMT, TRAIL, MOC or LIT"
    ),
    "required for a trailing stop": _("required for a trailing stop"),
    "only a trailing stop has a trailing amount": _("only a trailing stop has a trailing amount"),
    "only a trailing stop trails by a percent": _("only a trailing stop trails by a percent"),
    "a trailing percent must be below 100": _("a trailing percent must be below 100"),
    "a trailing stop's stop is set by the engine: the market price less the trailing amount": _(
        "a trailing stop's stop is set by the engine: the market price less the trailing amount"
    ),
    "required for a limit-if-touched order": _("required for a limit-if-touched order"),
    "only a limit-if-touched order has a trigger price": _(
        "only a limit-if-touched order has a trigger price"
    ),
    "a market on close order is DAY only: IB sends it for one close": _(
        "a market on close order is DAY only: IB sends it for one close"
    ),
}

ORDER_TYPE_PATTERNS = (
    (
        re.compile(
            r"refused: a market on close order must be placed at least 15\.5 minutes before the close "
            r"\(by (?P<cutoff>[0-9:]+) New York time today, LEAN's MarketOnCloseOrder buffer\); place it after the "
            r"close for the next session, or send a market order\."
        ),
        _(
            "A market on close order must be placed at least 15.5 minutes before the close (by %(cutoff)s "
            "New York time today); place it after the close for the next session, or send a market order."
        ),
    ),
)
