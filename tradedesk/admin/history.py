"""Admin changelists over a long history: a bounded count, and date drill-downs from index probes.

Django's own settings first: `show_full_result_count = False` (no second COUNT(*) of the whole table beside
a filtered one) and a paginator whose count stops at COUNT_CAP (the pages say "more than 10,000"). The date
hierarchy asks the queryset for the distinct years / months / days of its rows (a DISTINCT over every row);
HistoryQuerySet answers with one MAX() probe per period instead, each served by the date column's index."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

# The changelist counts its rows up to this many (a LIMIT inside the count), then says "more than".
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose count reads at most COUNT_CAP + 1 rows; `capped` says the count stopped there."""

    capped = False

    @cached_property
    def count(self) -> int:
        """The number of rows, or COUNT_CAP when there are more (then `capped` is true)."""
        # In the list's order (newest first): the count then walks the same index as the page, and stops.
        rows: Any = self.object_list
        counted = int(rows[: COUNT_CAP + 1].count())
        self.capped = counted > COUNT_CAP
        return min(counted, COUNT_CAP)


def _period_start(moment: datetime, kind: str) -> datetime:
    local = timezone.localtime(moment)
    if kind == "year":
        return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if kind == "month":
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if kind == "day":
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"no periods of {kind!r} for the date hierarchy")


class HistoryQuerySet(QuerySet):
    """A changelist's queryset whose datetimes() (what the date hierarchy lists) probes the index per period."""

    def datetimes(  # type: ignore[override]
        self,
        field_name: str,
        kind: Literal["year", "month", "week", "day", "hour", "minute", "second"],
        order: Literal["ASC", "DESC"] = "ASC",
        tzinfo: Any = None,
        is_dst: Any = None,
    ) -> list[datetime]:
        """The distinct periods (in the current time zone) holding a row: a loose index scan, newest first
        from MAX(field) below the last period found, one probe per period."""
        if tzinfo is not None or kind not in ("year", "month", "day"):
            return list(super().datetimes(field_name, kind, order, tzinfo))
        rows = self.order_by()
        periods: list[datetime] = []
        latest = rows.aggregate(last=Max(field_name))["last"]
        while latest is not None:
            start = _period_start(latest, kind)
            periods.append(start)
            latest = rows.filter(**{f"{field_name}__lt": start}).aggregate(last=Max(field_name))["last"]
        return periods if order == "DESC" else periods[::-1]


class HistoryAdminMixin:
    """For the admins of tables that grow with the desk's history (orders, fills, events, audit log)."""

    show_full_result_count = False
    paginator: ClassVar[type] = CappedCountPaginator

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """The admin's queryset as a HistoryQuerySet (same rows, same query)."""
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        return HistoryQuerySet(queryset.model, query=queryset.query.chain(), using=queryset.db)
