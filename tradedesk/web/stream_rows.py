"""The order rows a push carries: when a project's orders changed, the stream sends the rows that changed with
the event, so the page shows an engine's answer without a fetch first (desk.js places them in the rows it
shows; the fetch the event also triggers brings the rest: new rows, the header, the positions).

The rows are those of the orders table (orders_table.rendered_rows, the same template and fragment cache),
read with the project's orders counter in one snapshot: the counter is the rows' exact version, which the
page compares with the answers of its own fetches (each carries the counter it read before its rows), so an
older answer never replaces a newer pushed row and an older push never replaces a newer answer's.

A push covers the table when the rows it carries are all that changed in what the orders answer shows: the
same rows in the same order, the same working count (the head's Cancel all), positions counter, project mode
and trading state and reconciliation flags (the header). Its `orders` event then says so, and the page skips
that answer's fetch (pushed-rows.js): an engine's Submitted costs the desk no request. When only the table
changed (rows in or out, the head), the event says that instead, and a page whose table an answer already
brought to that version (the order's own POST answer) skips the fetch too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.db import connection, transaction
from django.utils import timezone, translation

from orders.models import WORKING_STATUSES, Project, ProjectVersion
from tradedesk.web.orders_table import RECENT_SECONDS, Row, orders_shown, rendered_rows, token_versions
from tradedesk.web.presenters import reconciliation_flags

# More changed rows than this in one push (a cancel-all, a reconnect): the page's fetch brings them instead.
PUSH_ROWS_MAX = 10


@dataclass(frozen=True)
class Look:
    """What a stream's rows are rendered in: its request's language and time zone."""

    language: str
    zone: str


@dataclass(frozen=True)
class RowsSnapshot:
    """The project's orders counter and its table's rows, read in one snapshot, with what else the orders
    answer shows that a changed row may move (`shape`: a push leaving it as it was covers the table)."""

    counter: int
    rows: tuple[Row, ...]
    shape: tuple[object, ...] = ()
    working: int = 0


def rows_snapshot(project_id: int, look: Look) -> RowsSnapshot:
    """The project's shown rows and the orders counter they are the version of (on the streams' DB thread)."""
    with translation.override(look.language), timezone.override(look.zone), transaction.atomic():
        if connection.vendor == "postgresql":
            # One snapshot for the counter and the rows (SQLite's read transaction is one already).
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        counters = (
            ProjectVersion.objects.filter(project_id=project_id).values_list("orders", "positions").first()
        )
        counter, positions = counters if counters is not None else (0, 0)
        project = Project.objects.only("id", "mode", "trading_state").get(pk=project_id)
        orders = orders_shown(project)
        cutoff = timezone.now() - timedelta(seconds=RECENT_SECONDS)
        rows = rendered_rows(orders, project=project, selected_id=None, cutoff=cutoff)
        # The header's reconciliation flags, as presenters.status_context shows them.
        flags = tuple(reconciliation_flags(project.mode))
    working = sum(1 for order in orders if order.status in WORKING_STATUSES)
    shape = (positions, project.mode, project.trading_state, flags)
    return RowsSnapshot(counter=counter, rows=tuple(rows), shape=shape, working=working)


class RowsSent:
    """The version of each row a stream's page has (from the rows token it connected with, then the pushes)."""

    def __init__(self, token: str) -> None:
        parsed = token_versions(token)
        # In the table's order (the token lists its rows so).
        self.versions: dict[str, str] = parsed[1] if parsed is not None else {}
        self.shape: tuple[object, ...] | None = None  # unknown until a first push: that one covers nothing
        self.working: int | None = None
        self.covered = False
        self.table_only = False

    def changed(self, snapshot: RowsSnapshot) -> list[Row] | None:
        """The rows whose version the page lacks (None: none, or too many for one push); `covered` tells
        whether they are all the page's orders answer would change, `table_only` whether only its table
        (rows, head) did."""
        rows = [row for row in snapshot.rows if self.versions.get(str(row.order_id)) != row.version]
        versions = {str(row.order_id): row.version for row in snapshot.rows}
        pushed = 0 < len(rows) <= PUSH_ROWS_MAX
        self.table_only = bool(snapshot.shape) and snapshot.shape == self.shape
        self.covered = (
            pushed
            and self.table_only
            and snapshot.working == self.working
            and list(versions) == list(self.versions)  # no row in, out or moved
        )
        self.versions, self.shape, self.working = versions, snapshot.shape, snapshot.working
        return rows if pushed else None


def rows_event(snapshot: RowsSnapshot, rows: list[Row]) -> bytes:
    """The `rows` event: no id, so the page's Last-Event-ID stays the versions it was told."""
    data = orjson.dumps({"stamp": snapshot.counter, "rows": [[row.order_id, str(row.html)] for row in rows]})
    return b"event: rows\ndata: " + data + b"\n\n"
