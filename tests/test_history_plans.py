"""Plan shapes at ~100,000 orders: every query of the page, the API's lists and the admin's changelist walks an
index and stops after what it shows (no Seq Scan or Sort over the orders or the events), so their cost does not
grow with the history. No timings: PostgreSQL's EXPLAIN of each query a request sends (issue 22)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.services import maintenance
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL plans"),
]

ORDERS = 100_000
HISTORY_TABLES = ("orders_tradeorder", "orders_executionevent")


def build_history(project: Any, user: Any) -> None:
    """ORDERS orders of the project (the newest 20 working), each with a Submitted and a final event, by SQL
    (committed: VACUUM runs outside a transaction); then what autovacuum would do to the big tables and the
    maintenance to the small ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_tradeorder (client_order_id, project_id, mode, symbol, side, quantity, order_type,
                status, filled_quantity, filled_notional, fees, ib_order_id, status_message, params,
                dispatch_attempts, flag, flag_message, review_note, created_by_id, created_at, updated_at,
                overfilled, future_event_time, update_pending)
            SELECT 'oh_' || k, %s, 'paper',
                   CASE WHEN k %% 5000 = 0 THEN 'RARE' ELSE 'S' || lpad((k %% 50)::text, 2, '0') END,
                   'BUY', 10, 'MKT',
                   CASE WHEN k > %s - 20 THEN 'SUBMITTED' WHEN k %% 5 = 0 THEN 'CANCELED' ELSE 'FILLED' END,
                   0, 0, 0, k, '', '{"source": "manual"}', 1, '', '', '', %s,
                   now() - (%s - k) * interval '30 seconds', now() - (%s - k) * interval '30 seconds',
                   false, false, false
            FROM generate_series(1, %s) AS k
            """,
            [project.pk, ORDERS, user.pk, ORDERS, ORDERS, ORDERS],
        )
        cursor.execute(
            """
            INSERT INTO orders_executionevent (event_key, order_id, tag, status, run_id, event_time, message,
                payload, source, outcome, reason, received_at)
            SELECT md5(n || 'e' || o.id) || md5(n || 'E' || o.id), o.id, o.client_order_id,
                   CASE n WHEN 1 THEN 'Submitted' ELSE 'Filled' END, 'r-plans',
                   o.created_at + n * interval '1 second', '', '{}', 'events.jsonl', 'applied', '',
                   o.created_at + n * interval '1 second'
            FROM orders_tradeorder o CROSS JOIN generate_series(1, 2) AS n
            WHERE o.project_id = %s
            """,
            [project.pk],
        )
        for table in HISTORY_TABLES:  # what autovacuum does after a load: statistics, the visibility map
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    maintenance.small_tables_analyze()


@dataclass(frozen=True)
class History:
    """The module's desk: a trader in two projects (one with ORDERS orders), a staff user, a token."""

    project: Any
    trader: Any
    staff: Any
    token: str


@pytest.fixture(scope="module")
def history(django_db_setup: Any, django_db_blocker: Any) -> Iterator[History]:
    """Built once for the module and committed (100,000 rows per test would cost minutes); every row of the
    module's tables is removed at the end."""
    from orders.services import api_token_create
    from tests.factories import ProjectFactory

    with django_db_blocker.unblock():
        trader = UserFactory(username="plans-trader")
        staff = UserFactory(username="plans-lead", is_staff=True, is_superuser=True)
        project = ProjectFactory(name="plans-desk", members=[trader])
        ProjectFactory(name="plans-other", members=[trader])
        build_history(project, trader)
        try:
            yield History(project, trader, staff, api_token_create(user=trader)[1])
        finally:
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE orders_tradeorder, orders_project, orders_auditlog CASCADE")
            get_user_model().objects.filter(pk__in=[trader.pk, staff.pk]).delete()


# A page reads what it shows: the admin's capped count walks COUNT_CAP + 1 rows, the API's offset bound 10,050.
ROWS_READ_MAX = 12_000
# A sort outside any LIMIT (an order's few events) may sort this many rows.
SORTED_ROWS_MAX = 1_000


def plan_problems(sql: str) -> list[str]:
    """What in the query's plan reads more than it shows: a Seq Scan of orders or events, a scan of them that
    reads more than ROWS_READ_MAX rows, or a Sort over them that discards rows (its input is more than the
    rows its LIMIT returns: a top-N of the history; a sort of a rare symbol's few orders discards none).
    Row counts from EXPLAIN ANALYZE (TIMING OFF: no clock is read or compared)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    problems: list[str] = []

    def relations(node: dict[str, Any]) -> Iterator[str]:
        if node.get("Relation Name"):
            yield node["Relation Name"]
        for child in node.get("Plans", []):
            yield from relations(child)

    def walk(node: dict[str, Any], returned: float | None) -> None:
        kind, relation = node["Node Type"], node.get("Relation Name")
        if relation in HISTORY_TABLES:
            read = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
            if kind == "Seq Scan":
                problems.append(f"Seq Scan on {relation} ({node.get('Filter', 'no filter')})")
            elif read > ROWS_READ_MAX:
                problems.append(f"{kind} on {relation} read {read} rows")
        if kind in ("Sort", "Incremental Sort") and set(relations(node)) & set(HISTORY_TABLES):
            sorted_rows = sum(child["Actual Rows"] * child["Actual Loops"] for child in node.get("Plans", []))
            if sorted_rows > (returned if returned is not None else SORTED_ROWS_MAX):
                problems.append(
                    f"{kind} of {sorted_rows} rows by {node.get('Sort Key')} for {returned} shown"
                )
        if kind == "Limit":
            returned = node["Actual Rows"] * node["Actual Loops"]
        for child in node.get("Plans", []):
            walk(child, returned)

    walk(plan, None)
    return problems


def assert_index_served(client: Client, path: str, status: int = 200, **headers: Any) -> int:
    """Send the request; every query it sends that reads orders or events passes plan_problems. Returns how
    many queries read them."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == status, response.content[:300]
    checked = 0
    failures = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not any(table in sql for table in HISTORY_TABLES) or not sql.lstrip().upper().startswith("SELECT"):
            continue
        checked += 1
        problems = plan_problems(sql)  # the captured text has its parameters inlined (psycopg's own)
        if problems:
            failures.append(f"{sql}\n    " + "\n    ".join(problems))
    assert not failures, f"{path}:\n" + "\n".join(failures)
    return checked


def test_small_tables_have_statistics_once_the_maintenance_ran(project: Any) -> None:
    # A desk's handful of projects and memberships: autovacuum never analyzes tables this small.
    analyzed = maintenance.small_tables_analyze()
    assert {"orders_project", "orders_project_members", "auth_user"} <= set(analyzed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('orders_project', 'orders_project_members')"
        )
        estimated = dict(cursor.fetchall())
        cursor.execute(
            "SELECT (SELECT count(*) FROM orders_project), (SELECT count(*) FROM orders_project_members)"
        )
        projects, memberships = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'orders_project_members'")
        columns_with_statistics = cursor.fetchone()[0]
    assert estimated == {"orders_project": projects, "orders_project_members": memberships}
    assert columns_with_statistics >= 3  # id, project_id, user_id


def test_beat_analyzes_the_small_tables_hourly(settings: Any) -> None:
    from execution.tasks import analyze_small_tables

    entry = settings.CELERY_BEAT_SCHEDULE["analyze-small-tables"]
    assert entry["task"] == analyze_small_tables.name and entry["schedule"] == 3600.0
    assert set(analyze_small_tables.apply().get()) == set(maintenance.small_tables())


def test_the_page_and_its_poll_read_orders_and_the_timeline_by_index(history: History) -> None:
    from orders.models import TradeOrder

    client = Client()
    client.force_login(history.trader)
    project = history.project.pk
    finished = TradeOrder.objects.filter(project_id=project, status="FILLED").order_by("-created_at", "-id")
    selected = finished.values_list("pk", flat=True)[0]
    assert assert_index_served(client, f"/live-trade?project={project}&order={selected}") >= 2
    assert assert_index_served(client, f"/live-trade/orders?project={project}", HTTP_HX_REQUEST="true") >= 1
    # What it shows is unchanged: the 20 working orders first (newest first), then the newest others.
    page = client.get(f"/live-trade/orders?project={project}", HTTP_HX_REQUEST="true").content.decode()
    statuses = [part.split('"')[0] for part in page.split('data-status="')[1:]]
    assert statuses[:20] == ["SUBMITTED"] * 20
    assert len(statuses) == 100 and "SUBMITTED" not in statuses[20:]


@pytest.mark.parametrize(
    "query",
    [
        "limit=50",
        "symbol=S07&limit=50",
        "symbol=RARE&limit=50",
        "status=CANCELED&limit=50",
        "status=SUBMITTED&limit=50",
        "project_id={project}&limit=50",
        "project_id={project}&symbol=S07&limit=50",
        "offset=9000&limit=50",
    ],
)
def test_api_lists_walk_an_index_under_every_filter(history: History, query: str) -> None:
    api = Client(HTTP_AUTHORIZATION=f"Bearer {history.token}")
    path = "/api/trade/orders?" + query.format(project=history.project.pk)
    assert assert_index_served(api, path) == 1
    following = api.get(path).json()["next"]
    if following:  # the keyset page after it, too (from the cursor alone: no offset)
        kept = "&".join(part for part in query.split("&") if not part.startswith("offset="))
        keyset = "/api/trade/orders?" + kept.format(project=history.project.pk)
        assert assert_index_served(api, f"{keyset}&cursor={following}") == 1


@pytest.mark.parametrize("query", ["", "?q=S07", "?q=s07", "?q=oh_77", "?q=RARE", "?status__exact=CANCELED"])
def test_the_admin_changelist_walks_an_index(history: History, query: str) -> None:
    admin = Client()
    admin.force_login(history.staff)
    assert assert_index_served(admin, f"/admin/orders/tradeorder/{query}") >= 2
