"""What an ingest stores beside the ledger: bad lines for staff, and the stage times of a batch's orders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from execution.ingest.files import EXCERPT_BYTES
from execution.models import BadEventLine
from orders.models import OrderStatus
from orders.services import order_stages_record_many


def record_bad_lines(bad: list[tuple[int | None, str, bytes]], *, source: str) -> None:
    """Store bad lines (byte offset, reason, capped excerpt) for the admin (the batch's log line counts them)."""
    if not bad:
        return
    BadEventLine.objects.bulk_create(
        [
            BadEventLine(
                source=source[:1000],
                offset=offset,
                reason=reason[:300],
                # PostgreSQL text cannot hold NUL: shown escaped, as the rest of the undecodable bytes.
                excerpt=raw[:EXCERPT_BYTES].decode("utf-8", "backslashreplace").replace("\x00", "\\x00"),
            )
            for offset, reason, raw in bad[: settings.TRADEDESK_BAD_LINES_KEPT_PER_BATCH]
        ]
    )


def stages_record(events: list[Any], *, ids: dict[str, int]) -> None:
    """The engine's Submitted and Filled moments (its clock) and the fill's ingest (now) of a batch's orders."""
    submitted: dict[int, Any] = {}
    filled: dict[int, Any] = {}
    now = timezone.now()
    for event in events:
        target = event.target_status()
        if target != OrderStatus.SUBMITTED and target != OrderStatus.FILLED:
            continue
        pk = ids.get(event.tag)
        if pk is None:
            continue
        moment = event.time or now
        stage = submitted if target == OrderStatus.SUBMITTED else filled
        stage[pk] = min(moment, stage.get(pk, moment))
    if submitted or filled:
        order_stages_record_many(
            at={"submitted": submitted, "filled": filled, "ingested": dict.fromkeys(filled, now)}
        )
