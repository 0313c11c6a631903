"""Fill exports: rows straight from a database cursor, written as CSV or JSON text piece by piece, so an
export never holds the whole table in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from orders.models import TradeFill

# (column, TradeFill lookup): the fee currency and the engine's ids (run, engine order id, IB order id) included.
FILL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fill_id", "id"),
    ("filled_at", "filled_at"),
    ("order_id", "order_id"),
    ("client_order_id", "order__client_order_id"),
    ("project_id", "order__project_id"),
    ("mode", "order__mode"),
    ("symbol", "order__symbol"),
    ("side", "order__side"),
    ("order_type", "order__order_type"),
    ("quantity", "quantity"),
    ("price", "price"),
    ("fee", "fee"),
    ("fee_currency", "fee_currency"),
    ("run_id", "run_id"),
    ("engine_order_id", "engine_order_id"),
    ("ib_order_id", "order__ib_order_id"),
    ("event_key", "event_key"),
)
EXPORT_FORMATS = ("csv", "json")
CHUNK_ROWS = 2000


def _plain(value: Any) -> Any:
    """A cell as JSON/CSV text: decimals without trailing zeros, times in ISO 8601."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def fill_rows(fills: QuerySet[TradeFill]) -> Iterator[tuple[Any, ...]]:
    """The export's rows in time order, fetched CHUNK_ROWS at a time through a server-side cursor."""
    lookups = [lookup for _, lookup in FILL_COLUMNS]
    rows = fills.order_by("filled_at", "id").values_list(*lookups).iterator(chunk_size=CHUNK_ROWS)
    for row in rows:
        yield tuple(_plain(value) for value in row)


class _Line:
    """csv.writer's file: hands back what it was given instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """A header line, then one CSV line per row."""
    writer = csv.writer(_Line())
    yield writer.writerow([name for name, _ in FILL_COLUMNS])
    for row in rows:
        yield writer.writerow(["" if value is None else value for value in row])


def json_chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """A JSON array of objects, one object per chunk."""
    names = [name for name, _ in FILL_COLUMNS]
    yield "["
    first = True
    for row in rows:
        yield ("" if first else ",") + "\n" + json.dumps(dict(zip(names, row, strict=True)))
        first = False
    yield "\n]\n"


def fills_export_chunks(fills: QuerySet[TradeFill], *, export_format: str) -> Iterator[str]:
    """The fills as CSV or JSON text chunks."""
    rows = fill_rows(fills)
    return csv_chunks(rows) if export_format == "csv" else json_chunks(rows)
