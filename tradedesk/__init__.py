"""tradedesk: manual trading through QuantConnect LEAN."""

from tradedesk.celery import app as celery_app

__all__ = ("celery_app",)
