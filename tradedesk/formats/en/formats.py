"""Times with seconds and the zone (tradedesk.display.DATETIME_FORMAT); other formats are Django's."""

from tradedesk.display import DATETIME_FORMAT

SHORT_DATETIME_FORMAT = DATETIME_FORMAT

__all__ = ["DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"]
