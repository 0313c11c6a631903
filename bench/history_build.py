"""The history bench's data, by SQL: the desk's orders with their fills, events and audit rows at each size,
the events table grown to a count, the projects, users and events file the requests use."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

SYMBOLS = 50
RARE_EVERY = 5000  # one order in 5,000 is of the symbol RARE: fewer matches than the API's count cap
WORKING = 20  # the newest orders are still working (a blotter)
STEP_SECONDS = 30
CHUNK = 200_000
BASE = "2026-12-01T15:00:00+00:00"  # the newest bench order
RUN_ID = "r-bench-history"
ID_RESERVED = 10_000_000


def build(*, project_id: int, user_id: int, start: int, stop: int, newest_id: int) -> None:
    """Orders of age rank start+1..stop (1 is the newest) with fills, events and audit rows, by SQL.

    Order ids grow with time: rank k has id newest_id + 1 - k, so a later, older chunk fills the ids below."""
    from django.db import connection

    params = {"p": project_id, "u": user_id, "a": start + 1, "b": stop, "top": newest_id + 1, "base": BASE}
    order_sql = f"""
        INSERT INTO orders_tradeorder (
            id, client_order_id, project_id, mode, symbol, side, quantity, order_type, status, filled_quantity,
            filled_notional, avg_fill_price, fees, ib_order_id, last_status_ts, status_ts, status_message,
            params, dispatched_at, dispatch_attempts, flag, flag_message, review_note, created_by_id,
            created_at, updated_at, overfilled, future_event_time, update_pending)
        SELECT %(top)s - k, 'oh_' || k, %(p)s, 'paper',
            CASE WHEN k %% {RARE_EVERY} = 0 THEN 'RARE' ELSE 'S' || lpad((k %% {SYMBOLS})::text, 2, '0') END,
            CASE WHEN k %% 3 = 0 THEN 'SELL' ELSE 'BUY' END, 10, 'MKT',
            CASE WHEN k <= {WORKING} THEN 'SUBMITTED' WHEN k %% 5 = 0 THEN 'CANCELED' ELSE 'FILLED' END,
            CASE WHEN k > {WORKING} AND k %% 5 <> 0 THEN 10 ELSE 0 END,
            CASE WHEN k > {WORKING} AND k %% 5 <> 0 THEN 1500 ELSE 0 END,
            CASE WHEN k > {WORKING} AND k %% 5 <> 0 THEN 150 END,
            CASE WHEN k > {WORKING} AND k %% 5 <> 0 THEN 1 ELSE 0 END,
            k, t + interval '1 second', t + interval '1 second', '',
            jsonb_build_object('source', 'manual', 'project_id', %(p)s, 'mode', 'paper'),
            t, 1, '', '', '', %(u)s, t, t + interval '1 second', false, false, false
        FROM (SELECT k, %(base)s::timestamptz - k * interval '{STEP_SECONDS} seconds' AS t
              FROM generate_series(%(a)s::bigint, %(b)s::bigint) AS k) AS g
    """
    fill_sql = """
        INSERT INTO orders_tradefill (order_id, event_key, quantity, price, fee, fee_currency, filled_at,
                                      run_id, engine_order_id, created_at)
        SELECT id, md5('f' || id) || md5('F' || id), 10, 150, 1, 'USD', last_status_ts, %(run)s, ib_order_id,
               last_status_ts
        FROM orders_tradeorder
        WHERE project_id = %(p)s AND id BETWEEN %(top)s - %(b)s AND %(top)s - %(a)s AND status = 'FILLED'
    """
    event_sql = """
        INSERT INTO orders_executionevent (event_key, order_id, tag, status, run_id, engine_order_id,
            engine_event_id, event_time, filled, fill_price, fee, message, payload, source, outcome, reason,
            received_at)
        SELECT md5(n || 'e' || o.id) || md5(n || 'E' || o.id), o.id, o.client_order_id, s.status, %(run)s,
            o.ib_order_id, n, o.created_at + n * interval '500 milliseconds', s.filled, s.price, s.fee, '',
            jsonb_build_object('tag', o.client_order_id, 'status', s.status, 'order_id', o.ib_order_id,
                               'event_id', n, 'run_id', %(run)s, 'symbol', o.symbol, 'filled', s.filled,
                               'fill_price', s.price, 'fee', s.fee, 'fee_currency', 'USD', 'message', ''),
            'engines/paper/events.jsonl', 'applied', '', o.created_at + n * interval '500 milliseconds'
        FROM orders_tradeorder o
        CROSS JOIN LATERAL (VALUES
            (1, 'Submitted', 0::numeric, 0::numeric, 0::numeric),
            (2, CASE o.status WHEN 'FILLED' THEN 'Filled' WHEN 'CANCELED' THEN 'Canceled' END,
             CASE WHEN o.status = 'FILLED' THEN 10 ELSE 0 END, CASE WHEN o.status = 'FILLED' THEN 150 ELSE 0 END,
             CASE WHEN o.status = 'FILLED' THEN 1 ELSE 0 END)) AS s(n, status, filled, price, fee)
        WHERE o.project_id = %(p)s AND o.id BETWEEN %(top)s - %(b)s AND %(top)s - %(a)s
          AND (s.n = 1 OR o.status <> 'SUBMITTED')
    """
    audit_sql = """
        INSERT INTO orders_auditlog (at, user_id, username, action, source_address, channel, project_id,
                                     order_id, detail)
        SELECT created_at, %(u)s, 'trader', 'order_create', '127.0.0.1', 'api', %(p)s, id,
               jsonb_build_object('client_order_id', client_order_id, 'symbol', symbol, 'side', side,
                                  'quantity', '10')
        FROM orders_tradeorder
        WHERE project_id = %(p)s AND id BETWEEN %(top)s - %(b)s AND %(top)s - %(a)s
    """
    with connection.cursor() as cursor:
        for sql in (order_sql, fill_sql, event_sql, audit_sql):
            cursor.execute(sql, params | {"run": RUN_ID})


def grow(*, project_id: int, user_id: int, have: int, size: int, newest_id: int) -> None:
    """Add orders (with their rows) until the project holds `size`, in chunks, then vacuum and analyze."""
    from django.db import connection, transaction

    started = time.monotonic()
    for start in range(have, size, CHUNK):
        stop = min(size, start + CHUNK)
        with transaction.atomic():
            build(project_id=project_id, user_id=user_id, start=start, stop=stop, newest_id=newest_id)
        print(f"  built {stop:,} orders ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        # What autovacuum does to a table after a load; the desk's small tables it never reaches.
        for table in ("orders_tradeorder", "orders_tradefill", "orders_executionevent", "orders_auditlog"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"  {size:,} orders ready in {time.monotonic() - started:.0f} s", flush=True)


def grow_events(*, project_id: int, total: int) -> int:
    """Add engine events (order updates the ledger recorded but did not apply) to the desk's orders until the
    events table holds about `total` rows, in chunks; vacuum and analyze it. Returns the rows stored."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM orders_executionevent")
        have, _top = cursor.fetchone()
        cursor.execute(  # the built history (ids below ID_RESERVED), not the ingest's new orders
            "SELECT min(id), max(id) FROM orders_tradeorder WHERE project_id = %s AND id < %s",
            [project_id, ID_RESERVED],
        )
        low, high = cursor.fetchone()
    per_order = max(1, -(-(total - have) // (high - low + 1)))
    started = time.monotonic()
    step = max(1, CHUNK // per_order)
    for first in range(low, high + 1, step):
        if have >= total:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO orders_executionevent (event_key, order_id, tag, status, run_id, engine_order_id,
                    engine_event_id, event_time, message, payload, source, outcome, reason, received_at)
                SELECT md5(n || 'u' || o.id) || md5(n || 'U' || o.id), o.id, o.client_order_id, 'UpdateSubmitted',
                    %s, o.ib_order_id, n, o.created_at + n * interval '100 milliseconds', '',
                    jsonb_build_object('tag', o.client_order_id, 'status', 'UpdateSubmitted', 'order_id',
                                       o.ib_order_id, 'event_id', n, 'run_id', %s),
                    'engines/paper/events.jsonl', 'ignored', '', o.created_at + n * interval '100 milliseconds'
                FROM orders_tradeorder o CROSS JOIN generate_series(3, 2 + %s) AS n
                WHERE o.project_id = %s AND o.id BETWEEN %s AND %s
                """,
                [RUN_ID, RUN_ID, per_order, project_id, first, first + step - 1],
            )
            have += cursor.rowcount
        if (first - low) // step % 10 == 0:
            print(f"  {have:,} events stored ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) orders_executionevent")
    print(f"  {have:,} events stored in {time.monotonic() - started:.0f} s", flush=True)
    return have


def set_up(root: Path) -> dict[str, Any]:
    """The trader (member of two of the three projects), a staff user, tokens, positions, an events file."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from execution.ingest import ingest_execution_events
    from orders.models import Position, Project
    from orders.services import api_token_create

    users = get_user_model().objects
    trader = users.create_user(username="trader", password="bench-password-1")
    staff = users.create_superuser(username="lead", password="bench-password-1", email="lead@example.com")
    desk = Project.objects.create(name="desk")
    others = [Project.objects.create(name=f"other-{n}") for n in range(2)]
    desk.members.add(trader)
    others[0].members.add(trader)
    with connection.cursor() as cursor:
        # Ids below this are the desk's history (built later, oldest lowest); everything else comes after.
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_tradeorder', 'id'), %s)", [ID_RESERVED])
        for n, project in enumerate(others):
            cursor.execute(
                """
                INSERT INTO orders_tradeorder (client_order_id, project_id, mode, symbol, side, quantity,
                    order_type, status, filled_quantity, filled_notional, fees, status_message, params,
                    dispatch_attempts, flag, flag_message, review_note, created_at, updated_at, overfilled,
                    future_event_time, update_pending)
                SELECT 'ox_' || %s || '_' || k, %s, 'paper', 'S01', 'BUY', 1, 'MKT', 'CANCELED', 0, 0, 0, '',
                       '{"source": "manual"}', 1, '', '', '', %s::timestamptz - k * interval '1 hour',
                       %s::timestamptz - k * interval '1 hour', false, false, false
                FROM generate_series(1, 50) AS k
                """,
                [n, project.pk, BASE, BASE],
            )
    Position.objects.bulk_create(
        Position(
            project=desk, mode="paper", symbol=f"S{n:02d}", quantity=10 + n, avg_cost=150, last_fill_price=151
        )
        for n in range(SYMBOLS)
    )
    events = root / "engines" / "paper" / "events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text(json.dumps({"type": "engine", "status": "started", "run_id": RUN_ID}) + "\n")
    ingest_execution_events()
    return {
        "trader": trader,
        "staff": staff,
        "project": desk,
        "token": api_token_create(user=trader, name="bench")[1],
        "events": events,
    }
