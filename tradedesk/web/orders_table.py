"""The live-trade page's orders table: which orders it shows, their rows rendered once per version, and the
version a poll compares to answer 204."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from orders import selectors
from orders.doors import bounded_id
from orders.models import FINAL_STATUSES, WORKING_STATUSES, BracketRole, Project, TradeOrder

ORDERS_SHOWN = 100


RECENT_SECONDS = 4
# A row's fingerprint in the page's rows token (hex digits): a collision would leave one changed row unsent.
ROW_VERSION_CHARS = 8
# A rows token longer than any the table renders is not one (up to 3 rows per order shown: a bracket's legs).
MAX_TOKEN_CHARS = 20 + ORDERS_SHOWN * 3 * (12 + ROW_VERSION_CHARS)


# Rendered order rows, per process, keyed by everything a row shows: the order's columns the row reads, the
# selection, the "recent" highlight, the language and the time zone
# (with its abbreviation now, which the time columns' headers show).
_ROWS: OrderedDict[tuple[Any, ...], Row] = OrderedDict()
_ROWS_MAX = 4096
_ROWS_LOCK = threading.Lock()
# The columns a row shows (orders/partials/order_row.html) and its cache key reads.
_ROW_FIELDS = (
    "id", "client_order_id", "project_id", "symbol", "side", "quantity", "order_type", "limit_price", "status",
    "filled_quantity", "avg_fill_price", "ib_order_id", "last_status_ts", "status_message", "params", "flag",
    "flag_message", "created_at", "updated_at", "stop_price", "overfilled", "future_event_time", "update_pending",
    "update_quantity", "update_limit_price", "update_stop_price", "update_requested_at",
    "cancel_requested_at", "cancel_sent_at", "update_refused", "update_refused_message", "parent_id",
    "bracket_role", "bracket_state", "bracket_message", "bracket_overfilled", "time_in_force",
    "good_till_date", "outside_rth", "trailing_amount", "trailing_as_percent",
    "trigger_price",
)  # fmt: skip


class Row(NamedTuple):
    """One rendered order row and the fingerprint of its HTML (what the page says it shows)."""

    order_id: int
    html: SafeString
    version: str


class ShownOrder:
    """A shown order read as its row's columns, without a model instance: what the table needs to place and
    key its row; an instance is made of the very same values only for a row not rendered in that version."""

    __slots__ = (
        "_layout", "_values", "bracket_role", "created_at", "data", "parent_id", "pk", "status", "updated_at",
    )  # fmt: skip

    def __init__(self, values: tuple[Any, ...], layout: _Layout) -> None:
        self._values = values = layout.convert(values)
        self._layout = layout
        self.pk, self.status, self.updated_at, self.created_at, self.parent_id, self.bracket_role = (
            values[index] for index in layout.named
        )
        self.data = repr(tuple(values[index] for index in layout.keyed))

    def order(self) -> TradeOrder:
        """The model instance of these values (its other columns deferred, as .only() leaves them)."""
        return TradeOrder.from_db(connection.alias, self._layout.attnames, list(self._values))


class _Layout:
    """How a statement's columns map onto the order's fields: their converters, the row's key columns."""

    def __init__(self, columns: Sequence[str]) -> None:
        fields = {field.column: field for field in TradeOrder._meta.concrete_fields}
        self.fields = [fields[column] for column in columns]
        order = {field.attname: index for index, field in enumerate(TradeOrder._meta.concrete_fields)}
        # from_db takes the loaded values in the model's field order.
        self.order = sorted(range(len(columns)), key=lambda index: order[self.fields[index].attname])
        self.attnames = [self.fields[index].attname for index in self.order]
        position = {
            name: self.order.index(index) for index, name in enumerate(f.attname for f in self.fields)
        }
        self.keyed = [position[name] for name in _ROW_FIELDS]
        self.named = [
            position[name]
            for name in ("id", "status", "updated_at", "created_at", "parent_id", "bracket_role")
        ]
        self.converters: list[tuple[int, list[Callable[..., Any]], Any]] = []
        for index in self.order:
            field = self.fields[index]
            column = field.get_col(TradeOrder._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((self.order.index(index), found, column))

    def convert(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        """The row's values in the model's field order, through the database's and the fields' converters
        (as the ORM's own read would give them)."""
        values = [raw[index] for index in self.order]
        for index, converters, column in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, column, connection)
            values[index] = value
        return tuple(values)


_LAYOUTS: dict[tuple[str, tuple[str, ...]], _Layout] = {}


def shown_orders(sql: str, params: Sequence[Any]) -> list[ShownOrder]:
    """The orders a statement over the row's columns reads, as ShownOrder."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = tuple(column[0] for column in cursor.description)
        rows = cursor.fetchall()
    key = (connection.vendor, columns)
    layout = _LAYOUTS.get(key)
    if layout is None:
        layout = _LAYOUTS[key] = _Layout(columns)
    return [ShownOrder(row, layout) for row in rows]


def order_rows(
    orders: Sequence[TradeOrder], *, project: Project, selected_id: int | None, cutoff: datetime
) -> list[SafeString]:
    """Each order's table row, rendered once per version of the order (fragment cache)."""
    return [
        row.html for row in rendered_rows(orders, project=project, selected_id=selected_id, cutoff=cutoff)
    ]


def rendered_rows(
    orders: Sequence[TradeOrder | ShownOrder], *, project: Project, selected_id: int | None, cutoff: datetime
) -> list[Row]:
    """Each order's row with its fingerprint, rendered once per version of the order (fragment cache)."""
    language = translation.get_language()
    # The zone's name and its abbreviation now: a clock names its own zone when the header's differs (DST).
    zone = (timezone.get_current_timezone_name(), timezone.localtime().tzname())
    rows = []
    for order in orders:
        recent = order.status in FINAL_STATUSES and order.updated_at > cutoff
        key = (
            order.pk,
            order.data if isinstance(order, ShownOrder) else row_data(order),
            order.pk == selected_id,
            recent,
            project.pk,
            language,
            zone,
        )
        with _ROWS_LOCK:
            row = _ROWS.get(key)
            if row is not None:
                _ROWS.move_to_end(key)
        if row is None:
            instance = order.order() if isinstance(order, ShownOrder) else order
            html = render_to_string(
                "orders/partials/order_row.html",
                {"o": instance, "project": project, "selected_order_id": selected_id, "recent": recent},
            )
            # Of the HTML, not the key: a change the row does not show (a claim, a hand-over) keeps it.
            row = Row(order.pk, mark_safe(html), digest(html)[:ROW_VERSION_CHARS])
            with _ROWS_LOCK:
                _ROWS[key] = row
                if len(_ROWS) > _ROWS_MAX:
                    _ROWS.popitem(last=False)
        rows.append(row)
    return rows


def row_data(order: TradeOrder) -> str:
    """Every column the row reads, as one text: the cache's key does not trust that each writer of a shown
    field also set updated_at (a bulk UPDATE that forgot it would otherwise show a stale row)."""
    values = order.__dict__
    return repr(tuple(values.get(name) for name in _ROW_FIELDS))


# The shown orders' statement is built once per process (the ORM's compile of it costs about as much as
# its run): with stand-ins for the project and the mode, replaced by each call's own.
_PROJECT_STANDIN = -918_273_645
_MODE_STANDIN = "\x00mode"
_SHOWN_SQL: dict[str, tuple[str, tuple[Any, ...]]] = {}


def _shown_statement(project: Project) -> tuple[str, list[Any]]:
    built = _SHOWN_SQL.get(connection.vendor)
    if built is None:
        shown = TradeOrder.objects.filter(project_id=_PROJECT_STANDIN, mode=_MODE_STANDIN).only(*_ROW_FIELDS)
        working = sorted(WORKING_STATUSES)
        parts = [
            branch.order_by("-created_at", "-id")[:ORDERS_SHOWN].query.sql_with_params()
            for branch in (shown.filter(status__in=working), shown.exclude(status__in=working))
        ]
        sql = " UNION ALL ".join(
            f"SELECT * FROM ({part}) AS part{n}" for n, (part, _params) in enumerate(parts)
        )
        built = _SHOWN_SQL[connection.vendor] = (
            sql,
            tuple(param for _sql, params in parts for param in params),
        )
    sql, template = built
    stand_ins = {_PROJECT_STANDIN: project.pk, _MODE_STANDIN: project.mode}
    return sql, [stand_ins.get(param, param) for param in template]


def orders_shown(project: Project) -> list[ShownOrder]:
    """The project's orders in its mode as the table shows them: working ones first (a blotter), newest first,
    then the newest others; ORDERS_SHOWN in all.

    Two index walks of at most ORDERS_SHOWN rows each in one statement (UNION ALL): the working orders from
    their partial index, the rest from the project's by-time index; so the page reads what it shows, however
    long the project's history (one ORDER BY over a CASE would read and sort every row of the project)."""
    rows = shown_orders(*_shown_statement(project))
    rows.sort(key=lambda order: (order.created_at, order.pk), reverse=True)
    rows.sort(key=lambda order: order.status not in WORKING_STATUSES)  # stable: newest first within each
    return bracket_groups(rows[:ORDERS_SHOWN])


def bracket_groups(rows: list[ShownOrder]) -> list[ShownOrder]:
    """The rows with each bracket's children right under their entry (take profit first), the group where its
    first member stands; the children of a shown entry are read when they are not among the rows."""
    entries = {row.pk for row in rows if row.bracket_role == BracketRole.ENTRY}
    if not entries:
        return rows
    children: dict[int, dict[int, ShownOrder]] = {pk: {} for pk in entries}
    query = TradeOrder.objects.filter(parent_id__in=entries).only(*_ROW_FIELDS).query
    for child in shown_orders(*query.sql_with_params()):
        children[child.parent_id][child.pk] = child
    by_pk = {row.pk: row for row in rows}
    grouped: list[ShownOrder] = []
    placed: set[int] = set()
    for row in rows:
        root = row.parent_id if row.parent_id in entries else row.pk
        if root in placed:
            continue
        placed.add(root)
        grouped.append(by_pk[root])
        if root in entries:
            legs = sorted(children[root].values(), key=lambda c: c.bracket_role != BracketRole.TAKE_PROFIT)
            grouped.extend(legs)
            placed.update(child.pk for child in legs)
    return grouped


def orders_context(project: Project, *, selected: Any = None) -> dict[str, Any]:
    """The project's orders in its mode as rendered rows: working ones first (a blotter), then the newest."""
    # Read before the rows (or with the project, earlier): the rows are at least this version, which the page
    # compares with the pushed rows' exact one (stream_rows.py).
    stamp = selectors.project_counters(project=project)[0]
    orders = orders_shown(project)
    selected_id = bounded_id(selected)
    cutoff = timezone.now() - timedelta(seconds=RECENT_SECONDS)
    rows = rendered_rows(orders, project=project, selected_id=selected_id, cutoff=cutoff)
    return {
        "orders": orders,
        "working_count": sum(1 for order in orders if order.status in WORKING_STATUSES),
        "order_rows": [row.html for row in rows],
        "rendered_rows": rows,
        "rows_token": rows_token(rows, project=project),
        "rows_stamp": stamp,
        "orders_shown": ORDERS_SHOWN,
        "selected_order_id": selected_id,
        "final_statuses": sorted(FINAL_STATUSES),
        "recent_cutoff": cutoff,
    }


def _frame(project: Project) -> str:
    """What the table shows around its rows: the language, the zone and its abbreviation now (the time
    columns' headers), the project."""
    zone = f"{timezone.get_current_timezone_name()}|{timezone.localtime().tzname()}"
    return digest(f"{translation.get_language()}|{zone}|{project.pk}")[:ROW_VERSION_CHARS]


def rows_token(rows: Sequence[Row], *, project: Project) -> str:
    """What the table shows, as the page sends it back: its frame, then each row's order id and version."""
    return _frame(project) + "~" + ",".join(f"{row.order_id}.{row.version}" for row in rows)


def rows_changed(rows: Sequence[Row], *, project: Project, shown: str | None) -> list[SafeString] | None:
    """The rows the page lacks or shows otherwise (`shown`: its rows token): new ones and changed ones; the
    page puts every row where the new token says (desk.js). None when only the whole table will do: no or
    a malformed token, another language or zone, or an empty table before or after."""
    parsed = token_versions(shown)
    if parsed is None or not rows or parsed[0] != _frame(project):
        return None
    versions = parsed[1]
    return [row.html for row in rows if versions.get(str(row.order_id)) != row.version]


def token_versions(shown: str | None) -> tuple[str, dict[str, str]] | None:
    """A rows token's frame and each row's version by order id (None: no token, or not one)."""
    if not shown or len(shown) > MAX_TOKEN_CHARS:
        return None
    frame, _, listed = shown.partition("~")
    if not listed:
        return None
    return frame, dict(pair.partition(".")[::2] for pair in listed.split(","))


def orders_version(context: dict[str, Any]) -> str:
    """What the orders table and the header status show: the project's orders counter (bumped by every
    change of one of its orders and of the mode's reconciliation flags), the selection, the engine, the
    project's state, and whether an order changed in the last seconds (when that ends, the rows render once
    more without their "recent" highlight; while changes keep coming, earlier highlights last until then)."""
    engine = context["engine"]
    project = context["project"]
    orders, _positions, changed_at = selectors.project_counters(project=project)
    now = timezone.now()
    recent = changed_at is not None and now - changed_at < timedelta(seconds=RECENT_SECONDS + 1)
    parts = [
        f"o{orders}",
        f"sel={context['selected_order_id']}",
        f"engine={engine.state}:{engine.run_id}:{engine.message}:{engine.refused}:{engine.preflight}",
        f"project={project.mode}:{project.trading_state}",
        f"recent={'yes' if recent else ''}",
    ]
    return digest("|".join(parts))


def digest(basis: str) -> str:
    """A short fingerprint of what a part of the page shows."""
    return hashlib.sha256(basis.encode()).hexdigest()[:16]
