"""An order's stage times (orders.models.OrderStageTimes): recorded where each stage happens, the first
time only (a retried task or a duplicate event keeps the first moment), never bumping the change counter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from orders.db.bulk import fill_unset
from orders.models import ORDER_STAGES, OrderStageTimes

# A click reported more than this before its commit is the client's clock, not the trader: clamped to it.
CLICK_CLAMP = timedelta(seconds=60)

# The gaps the order's timeline shows: (label, from stage, to stage).
STAGE_GAPS = (
    ("request", "clicked", "committed"),
    ("queue", "committed", "picked_up"),
    ("hand-over", "picked_up", "handed_over"),
    ("engine", "handed_over", "submitted"),
    ("fill", "submitted", "filled"),
    ("ingest", "filled", "ingested"),
    ("screen", "ingested", "pushed"),
)


def click_clamped(*, clicked: datetime | None, committed: datetime) -> datetime | None:
    """The client's click time within [committed - CLICK_CLAMP, committed] (its clock may be off)."""
    if clicked is None:
        return None
    return min(max(clicked, committed - CLICK_CLAMP), committed)


def order_stages_start(*, order_id: int, clicked: datetime | None, committed: datetime | None = None) -> None:
    """The order's row of stage times, with its click (clamped) and commit, in the order's transaction."""
    committed = committed or timezone.now()
    OrderStageTimes.objects.create(
        order_id=order_id,
        clicked_at=click_clamped(clicked=clicked, committed=committed),
        committed_at=committed,
    )


def order_stages_record(
    *, stage: str, at: Mapping[int, datetime] | None = None, order_ids: Iterable[int] = ()
) -> int:
    """Record `stage` for orders (now, or each order's own moment in `at`), where not recorded yet."""
    moments = dict(at or {})
    now = timezone.now()
    for order_id in order_ids:
        moments.setdefault(order_id, now)
    return order_stages_record_many(at={stage: moments})


def order_stages_record_many(*, at: Mapping[str, Mapping[int, datetime]]) -> int:
    """Record several stages at once (stage -> order id -> moment), each where not recorded yet: one statement.

    Returns the orders whose row was created or gained a stage."""
    unknown = set(at) - set(ORDER_STAGES)
    if unknown:
        raise ValueError(f"unknown order stage {sorted(unknown)[0]!r}")
    stages = [stage for stage in ORDER_STAGES if at.get(stage)]
    ids = sorted({order_id for stage in stages for order_id in at[stage]})
    if not ids:
        return 0
    # Orders placed before stage times existed (or by other paths) get their row here; ids sorted: rows are
    # locked in one order by concurrent recorders.
    rows = [(pk, *(at[stage].get(pk) for stage in stages)) for pk in ids]
    return fill_unset(OrderStageTimes, "order", [f"{stage}_at" for stage in stages], rows)


def order_stages_pushed(*, project_id: int, at: datetime | None = None) -> int:
    """A page stream told the project's screens that orders changed (at `at`, else now): the ingested fills
    not pushed before."""
    return OrderStageTimes.objects.filter(
        order__project_id=project_id, ingested_at__isnull=False, pushed_at__isnull=True
    ).update(pushed_at=at or timezone.now())


@dataclass(frozen=True)
class StageGap:
    """One gap of the order's timeline: its label and milliseconds."""

    label: str
    milliseconds: int


def order_stage_gaps(times: OrderStageTimes | None) -> list[StageGap]:
    """The gaps between the stages both recorded, in order ("engine 41 ms · ingest 3 ms · screen 12 ms")."""
    if times is None:
        return []
    gaps = []
    for label, start, end in STAGE_GAPS:
        began, ended = getattr(times, f"{start}_at"), getattr(times, f"{end}_at")
        if began is not None and ended is not None:
            gaps.append(
                StageGap(label=label, milliseconds=max(0, round((ended - began).total_seconds() * 1000)))
            )
    return gaps
