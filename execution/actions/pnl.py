"""The P&L samples door: beat samples every project's realised + unrealised P&L (and its open positions'
last prices) from the prices snapshot the desk already reads, for the page's chart and sparklines; samples
older than TRADEDESK_RETENTION_DAYS are pruned at the same time."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from execution.ingest.prices import positions_totals, positions_value
from execution.models import PnlSample
from orders import selectors
from orders.models import Project


def pnl_sample_all(*, now: datetime | None = None) -> dict[str, int]:
    """One sample per project that has positions in its mode (flat ones count: realised P&L); then prune."""
    moment = now or timezone.now()
    samples = []
    for project in Project.objects.order_by("pk"):
        book = list(selectors.positions_for_project(project=project, include_flat=True))
        if not book:
            continue
        open_positions = [position for position in book if position.quantity != 0]
        positions_value(open_positions, mode=project.mode)
        totals = positions_totals(
            open_positions, realized_pnl=sum((p.realized_pnl for p in book), Decimal(0))
        )
        prices = {
            p.symbol: f"{p.valuation.last_price.normalize():f}"  # type: ignore[attr-defined]
            for p in open_positions
            if p.valuation.last_price is not None  # type: ignore[attr-defined]
        }
        samples.append(
            PnlSample(
                project=project,
                mode=project.mode,
                at=moment,
                realized_pnl=totals.realized_pnl,
                unrealized_pnl=totals.unrealized_pnl,
                prices=prices,
            )
        )
    PnlSample.objects.bulk_create(samples, ignore_conflicts=True)
    pruned = 0
    if settings.TRADEDESK_RETENTION_DAYS > 0:
        cutoff = moment - timedelta(days=settings.TRADEDESK_RETENTION_DAYS)
        pruned, _ = PnlSample.objects.filter(at__lt=cutoff).delete()
    return {"sampled": len(samples), "pruned": pruned}


def pnl_samples_since(*, project: Project, since: datetime) -> list[PnlSample]:
    """The project's samples in its mode since `since`, oldest first (the page's chart of the session)."""
    return list(PnlSample.objects.filter(project=project, mode=project.mode, at__gte=since).order_by("at"))
