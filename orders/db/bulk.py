"""Set-based SQL for the ledger: COPY/unnest row sources, INSERT ... ON CONFLICT, batched UPDATE."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection, models

from orders.models import (
    ArchivedExecutionEvent,
    ExecutionEvent,
)

# Batches of this many keys first probe a sample for stored keys; all are looked up when at least 1 in
# _PROBE_FULL_RATIO of the sample is stored (a replay), else ON CONFLICT alone sorts out the few duplicates.
_PROBE_MIN_KEYS = 512
_PROBE_SAMPLE = 64
_PROBE_FULL_RATIO = 8
# From this many rows on, PostgreSQL batches are COPYed into a staging table instead of sent as arrays.
_COPY_MIN_ROWS = 256


class JsonText(str):
    """A JSON document already serialized (an engine's line as read): stored as its text, not dumped again."""

    __slots__ = ()


def postgresql() -> bool:
    return bool(connection.vendor == "postgresql")


@contextmanager
def binary_cursor(*, binary_results: bool = False) -> Iterator[Any]:
    """A server-binding psycopg cursor in Django's transaction (array parameters travel in binary, %b).

    With `binary_results` rows come back in binary: psycopg's C loaders read timestamps and numerics instead of
    Django's per-value Python timestamptz loader (same values; datetimes in the session's time zone, UTC)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if binary_results:
        raw.format = psycopg.pq.Format.BINARY
    try:
        yield connection._prepare_cursor(raw)  # type: ignore[attr-defined]  # Django's wrapper: query logging and execute_wrappers
    finally:
        raw.close()


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def column(model: type[models.Model], name: str) -> str:
    return str(connection.ops.quote_name(_field(model, name).column))


def _db_value(model: type[models.Model], name: str, value: Any) -> Any:
    """A value as the ORM would send it for this field (portable path)."""
    return _field(model, name).get_db_prep_save(value, connection)


def _pg_type(field: Any) -> str:
    """The plain PostgreSQL type a field's values travel as (binary); assignment casts do the rest."""
    db_type = str(field.rel_db_type(connection) if field.is_relation else field.db_type(connection))
    if db_type.startswith(("varchar", "text", "char", "jsonb")):
        return "text"  # JSON travels as its text and is cast to jsonb by the statement
    if db_type in ("bigint", "integer", "smallint", "bigserial", "serial"):
        return "int8"
    if db_type.startswith("numeric"):
        return "numeric"
    if db_type.startswith("timestamp"):
        return "timestamptz"
    if db_type == "boolean":
        return "bool"
    raise ValueError(f"no binary type for {field!r} ({db_type})")


def _pg_rows(
    model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]
) -> tuple[str, list[Any], list[str]]:
    """A row source `v(c0, c1, ...)` for rows of `names`: (FROM clause, its parameters, select list)."""
    # Small batches travel as binary arrays (unnest); large ones are COPYed (binary) into a session temp
    # table, faster for thousands of rows. JSON columns travel as text, cast to jsonb in the select list.
    fields = [model._meta.pk if name == "pk" else _field(model, name) for name in names]
    types = [_pg_type(field) for field in fields]
    json_columns = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    select = [f"v.c{i}::jsonb" if i in json_columns else f"v.c{i}" for i in range(len(fields))]
    dumps = json.dumps
    for i in json_columns:
        if all(row[i] is None or type(row[i]) is JsonText for row in rows):
            continue  # the ledger's events: each line's own text (no new tuple per row)
        rows = [
            (*row[:i], row[i] if row[i] is None or type(row[i]) is JsonText else dumps(row[i]), *row[i + 1 :])
            for row in rows
        ]
    if len(rows) < _COPY_MIN_ROWS:
        arrays = ", ".join(f"%b::{kind}[]" for kind in types)
        aliases = ", ".join(f"c{i}" for i in range(len(types)))
        return (
            f"unnest({arrays}) AS v({aliases})",
            [list(column) for column in zip(*rows, strict=True)],
            select,
        )
    digest = hashlib.sha256(f"{model._meta.db_table}:{','.join(types)}".encode()).hexdigest()[:16]
    stage = f"td_stage_{digest}"
    definition = ", ".join(f"c{i} {kind}" for i, kind in enumerate(types))
    with binary_cursor() as cursor:
        # Temp tables are per session; ON COMMIT DELETE ROWS empties it at commit. A second use in the same
        # transaction DELETEs the rows: unlike TRUNCATE (a new file and a pg_class update every time), a DELETE
        # of an empty table costs nothing, and the first use in a transaction is the common one.
        # Both in one round trip (no parameters: the simple query protocol takes several statements).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({definition}) ON COMMIT DELETE ROWS; DELETE FROM {stage}"
        )
        with connection.wrap_database_errors, cursor.copy(f"COPY {stage} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)
    return f"{stage} AS v", [], select


def _known_event_keys(keys: list[str]) -> set[str]:
    """The keys among `keys` that already have an ExecutionEvent (read only; the insert still decides)."""
    if postgresql():
        with binary_cursor() as cursor:
            cursor.execute(
                f"SELECT event_key FROM {ExecutionEvent._meta.db_table} WHERE event_key = ANY(%b::text[])",
                [keys],
            )
            return {row[0] for row in cursor.fetchall()}
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        known.update(ExecutionEvent.objects.filter(event_key__in=chunk).values_list("event_key", flat=True))
    return known


def archived_event_keys(keys: list[str]) -> set[str]:
    """The keys among `keys` stored in the archive of closed orders' events (orders/services/archive.py)."""
    if postgresql():
        with binary_cursor() as cursor:
            cursor.execute(
                f"SELECT event_key FROM {ArchivedExecutionEvent._meta.db_table} WHERE event_key = ANY(%b::text[])",
                [keys],
            )
            return {row[0] for row in cursor.fetchall()}
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            ArchivedExecutionEvent.objects.filter(event_key__in=chunk).values_list("event_key", flat=True)
        )
    return found


def stored_event_keys(keys: list[str]) -> set[str]:
    """Stored keys among `keys`, all looked up only when a sample says this batch is mostly a replay."""
    # Only a speed-up: a stored key missed here is still caught by INSERT ... ON CONFLICT DO NOTHING.
    if len(keys) < _PROBE_MIN_KEYS:
        return _known_event_keys(keys)
    step = len(keys) // _PROBE_SAMPLE
    sample = keys[::step][:_PROBE_SAMPLE]
    known = _known_event_keys(sample)
    if len(known) * _PROBE_FULL_RATIO < len(sample):
        return known
    return _known_event_keys(keys)


def insert_new_keys(
    model: type[models.Model],
    names: Sequence[str],
    rows: list[tuple[Any, ...]],
    key_field: str,
    constants: dict[str, Any],
) -> set[str]:
    """INSERT rows of `names` (plus per-batch constants) ON CONFLICT (key) DO NOTHING: the keys inserted."""
    if not rows:
        return set()
    table = connection.ops.quote_name(model._meta.db_table)
    key_column = column(model, key_field)
    column_list = ", ".join(column(model, name) for name in [*names, *constants])
    if postgresql():
        # One statement per batch over a row source (arrays or a COPYed staging table).
        source, source_params, select = _pg_rows(model, names, rows)
        params: list[Any] = []  # the constants' placeholders come before the row source's
        for name, value in constants.items():
            field = _field(model, name)
            if isinstance(field, models.JSONField):
                select.append("%b::text::jsonb")
                params.append(None if value is None else json.dumps(value))
            else:
                select.append(f"%b::{_pg_type(field)}")
                params.append(value)
        params += source_params
        with binary_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) SELECT {', '.join(select)} FROM {source} "
                f"ON CONFLICT ({key_column}) DO NOTHING RETURNING {key_column}",
                params,
            )
            return {row[0] for row in cursor.fetchall()}
    inserted: set[str] = set()
    per_row = len(names) + len(constants)
    chunk_size = max(1, min(500, 30000 // per_row))
    fields = [_field(model, name) for name in names]
    prepared_constants = [_db_value(model, name, value) for name, value in constants.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            placeholders = ", ".join("(" + ", ".join(["%s"] * per_row) + ")" for _ in chunk)
            params = []
            for row in chunk:
                params.extend(
                    field.get_db_prep_save(
                        json.loads(value) if type(value) is JsonText else value, connection
                    )
                    for field, value in zip(fields, row, strict=True)
                )
                params.extend(prepared_constants)
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) VALUES {placeholders} "
                f"ON CONFLICT ({key_column}) DO NOTHING RETURNING {key_column}",
                params,
            )
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted


def update_rows(model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE rows by primary key, each row (pk, *values of names): one statement per batch on PostgreSQL."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(str(model._meta.pk.column))
    columns = [column(model, name) for name in names]
    if postgresql():
        source, params, select = _pg_rows(model, ["pk", *names], rows)
        pairs = zip(columns, select[1:], strict=True)
        assignments = ", ".join(f"{column} = {value}" for column, value in pairs)
        with binary_cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{pk_column} = v.c0", params
            )
        return
    assignments = ", ".join(f"{column} = %s" for column in columns)
    prepared = [
        [*(_db_value(model, name, value) for name, value in zip(names, row[1:], strict=True)), row[0]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s", prepared)


def fill_unset(
    model: type[models.Model], key_field: str, names: Sequence[str], rows: list[tuple[Any, ...]]
) -> int:
    """Upsert rows (key, *values of names) by key, setting only columns still null (first value wins).

    None in a row leaves that column as it is. One statement per batch on PostgreSQL; returns the rows
    inserted or changed."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    key_column = column(model, key_field)
    columns = [column(model, name) for name in names]
    if postgresql():
        source, params, select = _pg_rows(model, [key_field, *names], rows)
        assignments = ", ".join(f"{c} = COALESCE({table}.{c}, EXCLUDED.{c})" for c in columns)
        changed = " OR ".join(f"({table}.{c} IS NULL AND EXCLUDED.{c} IS NOT NULL)" for c in columns)
        with binary_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, {', '.join(columns)}) SELECT {', '.join(select)} "
                f"FROM {source} ON CONFLICT ({key_column}) DO UPDATE SET {assignments} WHERE {changed}",
                params,
            )
            return int(cursor.rowcount)
    # Portable path: the missing rows first, then one UPDATE per column and row still null there.
    keys = [row[0] for row in rows]
    model._default_manager.bulk_create(
        [model(**{_field(model, key_field).attname: key}) for key in keys], ignore_conflicts=True
    )
    key_attname = _field(model, key_field).attname
    touched: set[Any] = set()
    for index, name in enumerate(names, start=1):
        for row in rows:
            if row[index] is None:
                continue
            updated = model._default_manager.filter(**{key_attname: row[0], f"{name}__isnull": True}).update(
                **{name: row[index]}
            )
            if updated:
                touched.add(row[0])
    return len(touched)
