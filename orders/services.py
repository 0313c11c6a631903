"""The only writers of order tables: create, transition, fill, position, plus their set-based batch forms."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from orders.errors import Conflict, Forbidden, NotFound, OrderValidationError
from orders.models import (
    CLIENT_ORDER_ID_REGEX,
    CLOSED_STATUSES,
    STATUS_RANK,
    SYMBOL_REGEX,
    WORKING_STATUSES,
    ApiToken,
    AuditLog,
    ExecutionEvent,
    Mode,
    OrderFlag,
    OrderStatus,
    OrderType,
    Position,
    Project,
    Side,
    TradeFill,
    TradeOrder,
    TradingState,
)

logger = logging.getLogger("orders")

User = AbstractBaseUser | AnonymousUser
DEFAULT_PROJECT_NAME = "default"
QTY_PLACES = Decimal("0.000001")
PRICE_PLACES = Decimal("0.0000000001")
MONEY_PLACES = Decimal("0.00000001")

# LEAN OrderStatus names -> tradedesk status; New and None change nothing.
LEAN_STATUS_MAP: dict[str, str | None] = {
    "New": None,
    "None": None,
    "Submitted": OrderStatus.SUBMITTED,
    "UpdateSubmitted": OrderStatus.SUBMITTED,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "CancelPending": OrderStatus.CANCEL_PENDING,
    "Canceled": OrderStatus.CANCELED,
    "Invalid": OrderStatus.REJECTED,
}


# --------------------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """The contract's canonical JSON: keys sorted, compact separators, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_identity(event: dict[str, Any]) -> str:
    """An event's identity: (run_id, order_id, event_id) when all present, else the SHA-256 of its JSON."""
    run_id, order_id, event_id = event.get("run_id"), event.get("order_id"), event.get("event_id")
    if type(run_id) is str and run_id and type(order_id) is int and type(event_id) is int:
        # canonical_json([run_id, order_id, event_id]) exactly, without json.dumps: ingest's hot path.
        basis = f"id:[{encode_basestring(run_id)},{int.__repr__(order_id)},{int.__repr__(event_id)}]"
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()
    if run_id not in (None, "") and order_id is not None and event_id is not None:
        basis = "id:" + canonical_json([run_id, order_id, event_id])
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


def _to_decimal(value: Any, *, field_name: str, places: Decimal) -> Decimal:
    """A finite Decimal from a JSON/form value, with at most `places` decimals, or a validation error."""
    if isinstance(value, bool) or value is None:
        raise OrderValidationError(f"{field_name} must be a number", errors={field_name: "must be a number"})
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise OrderValidationError(
            f"{field_name} must be a number", errors={field_name: "must be a number"}
        ) from None
    if not number.is_finite():
        raise OrderValidationError(f"{field_name} must be finite", errors={field_name: "must be finite"})
    if abs(number) >= Decimal("1e14"):
        raise OrderValidationError(f"{field_name} is too large", errors={field_name: "is too large"})
    if number != number.quantize(places, rounding=ROUND_HALF_EVEN):
        decimals = -places.as_tuple().exponent  # type: ignore[operator]
        raise OrderValidationError(
            f"{field_name} has more than {decimals} decimal places",
            errors={field_name: f"at most {decimals} decimal places"},
        )
    return number.quantize(places)


def _q(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


# --------------------------------------------------------------------------------------------------------
# Audit log
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who did something, from where (for the audit log)."""

    user: Any = None
    source_address: str | None = None
    channel: str = ""


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    project: Project | None = None,
    order: TradeOrder | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry to the audit log."""
    actor = actor or Actor()
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=user,
        username=getattr(user, "username", "") or "",
        action=action,
        source_address=actor.source_address or None,
        channel=actor.channel,
        project=project,
        order=order,
        detail=detail or {},
    )


# --------------------------------------------------------------------------------------------------------
# Projects and access
# --------------------------------------------------------------------------------------------------------


def project_for_user(*, user: Any, project_id: Any) -> Project:
    """The project the user may trade in, or NotFound (no difference between unknown and not a member)."""
    if isinstance(project_id, bool) or project_id is None:
        raise NotFound("project not found")
    try:
        pk = int(project_id)
    except (TypeError, ValueError):
        raise NotFound("project not found") from None
    queryset = Project.objects.filter(pk=pk)
    if user is not None and not getattr(user, "is_superuser", False):
        queryset = queryset.filter(members=user)
    project = queryset.first()
    if project is None:
        raise NotFound("project not found")
    return project


def project_default_for(*, user: Any) -> Project:
    """The project named `default`, created when missing (its creator becomes a member)."""
    project, created = Project.objects.get_or_create(name=DEFAULT_PROJECT_NAME)
    if user is not None and getattr(user, "is_authenticated", False):
        if created:
            project.members.add(user)
        elif not getattr(user, "is_superuser", False) and not project.members.filter(pk=user.pk).exists():
            raise NotFound("project not found")
    return project


def _require_live_permission(*, user: Any, project: Project) -> None:
    if project.mode == Mode.LIVE and user is not None and not user.has_perm("orders.trade_live"):
        raise Forbidden("LIVE trading needs the orders.trade_live permission")


def project_set_trading_state(*, project: Project, state: str, actor: Actor | None = None) -> Project:
    """Set ACTIVE / REDUCING / HALTED; HALTED is the kill switch (the caller cancels working orders)."""
    if state not in TradingState.values:
        raise OrderValidationError("unknown trading state", errors={"trading_state": "unknown value"})
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(trading_state=state, updated_at=timezone.now())
        project.refresh_from_db()
        audit_record(actor=actor, action="trading_state", project=project, detail={"state": state})
    return project


def project_set_mode(*, project: Project, mode: str, actor: Actor | None = None) -> Project:
    """Switch a project between paper and live; LIVE needs orders.trade_live and no working orders."""
    if mode not in Mode.values:
        raise OrderValidationError("mode must be paper or live", errors={"mode": "must be paper or live"})
    user = actor.user if actor else None
    if mode == Mode.LIVE and user is not None and not user.has_perm("orders.trade_live"):
        raise Forbidden("switching to LIVE needs the orders.trade_live permission")
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.mode == mode:
            return locked
        if TradeOrder.objects.filter(project=locked, status__in=WORKING_STATUSES).exists():
            raise Conflict("the project has working orders; cancel them before switching mode")
        locked.mode = mode
        locked.save(update_fields=["mode", "updated_at"])
        audit_record(actor=actor, action="mode_switch", project=locked, detail={"mode": mode})
    return locked


# --------------------------------------------------------------------------------------------------------
# Creating orders
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderCreateResult:
    """What create_trade_order did: the order and whether it is new."""

    order: TradeOrder
    created: bool


@dataclass(frozen=True)
class CleanOrder:
    """A validated order payload."""

    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    client_order_id: str | None
    project_id: Any
    mode: str | None
    confirm: bool


def clean_order_payload(payload: Any) -> CleanOrder:
    """Validate an order payload (API keys); every bad field is reported at once."""
    if not isinstance(payload, dict):
        raise OrderValidationError("the order must be a JSON object")
    errors: dict[str, str] = {}

    symbol = payload.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        errors["symbol"] = "required"
        symbol = ""
    else:
        symbol = symbol.strip().upper()
        if not re.fullmatch(SYMBOL_REGEX, symbol):
            errors["symbol"] = "must be 1-15 letters, digits or dots, starting with a letter"

    side = payload.get("side")
    side = side.strip().upper() if isinstance(side, str) else side
    if side not in Side.values:
        errors["side"] = "must be BUY or SELL"

    order_type = payload.get("order_type") or OrderType.MKT
    order_type = order_type.strip().upper() if isinstance(order_type, str) else order_type
    if order_type not in OrderType.values:
        errors["order_type"] = "must be MKT or LMT"

    quantity: Decimal | None = None
    if payload.get("quantity") in (None, ""):
        errors["quantity"] = "required"
    else:
        try:
            quantity = _to_decimal(payload["quantity"], field_name="quantity", places=QTY_PLACES)
        except OrderValidationError as exc:
            errors.update(exc.errors)
        else:
            if quantity <= 0:
                errors["quantity"] = "must be greater than 0"
            elif quantity > settings.TRADEDESK_MAX_ORDER_QUANTITY:
                errors["quantity"] = f"must be at most {settings.TRADEDESK_MAX_ORDER_QUANTITY:,}"

    limit_price: Decimal | None = None
    raw_limit = payload.get("limit_price")
    if order_type == OrderType.LMT:
        if raw_limit in (None, ""):
            errors["limit_price"] = "required for a limit order"
        else:
            try:
                limit_price = _to_decimal(raw_limit, field_name="limit_price", places=PRICE_PLACES)
            except OrderValidationError as exc:
                errors.update(exc.errors)
            else:
                if limit_price <= 0:
                    errors["limit_price"] = "must be greater than 0"
                elif limit_price >= Decimal("1e13"):
                    errors["limit_price"] = "is too large"
    elif raw_limit not in (None, ""):
        errors["limit_price"] = "only a limit order has a limit price"

    client_order_id = payload.get("client_order_id")
    if client_order_id in (None, ""):
        client_order_id = None
    elif not isinstance(client_order_id, str) or not re.fullmatch(CLIENT_ORDER_ID_REGEX, client_order_id):
        errors["client_order_id"] = "must be 1-64 letters, digits, '_', '.' or '-'"

    mode = payload.get("mode")
    if mode in (None, ""):
        mode = None
    elif mode not in Mode.values:
        errors["mode"] = "must be paper or live"

    confirm = payload.get("confirm", False)
    if not isinstance(confirm, bool):
        errors["confirm"] = "must be true or false"

    project_id = payload.get("project_id")
    if project_id in ("",):
        project_id = None
    if project_id is not None and (isinstance(project_id, bool) or not str(project_id).isdigit()):
        errors["project_id"] = "must be a project id"

    if errors:
        first = next(iter(errors.items()))
        raise OrderValidationError(f"{first[0]}: {first[1]}", errors=errors)
    assert quantity is not None
    return CleanOrder(
        symbol=symbol,
        side=str(side),
        quantity=quantity,
        order_type=str(order_type),
        limit_price=limit_price,
        client_order_id=client_order_id,
        project_id=project_id,
        mode=mode,
        confirm=bool(confirm),
    )


def _generate_client_order_id(*, project: Project, user: Any) -> str:
    user_part = getattr(user, "pk", None) or 0
    millis = int(time.time() * 1000)
    while True:
        candidate = f"oi_{project.pk}_{user_part}_{millis}"
        if not TradeOrder.objects.filter(client_order_id=candidate).exists():
            return candidate
        millis += 1


def _same_order(order: TradeOrder, clean: CleanOrder, project: Project) -> bool:
    return (
        order.project_id == project.pk
        and order.symbol == clean.symbol
        and order.side == clean.side
        and order.quantity == clean.quantity
        and order.order_type == clean.order_type
        and order.limit_price == clean.limit_price
    )


def _replay_or_conflict(*, existing: TradeOrder, clean: CleanOrder, project: Project) -> OrderCreateResult:
    if _same_order(existing, clean, project):
        return OrderCreateResult(order=existing, created=False)
    raise Conflict(f"client_order_id {existing.client_order_id} was already used for a different order")


def create_trade_order(
    payload: dict[str, Any],
    *,
    user: Any = None,
    source: str = "manual",
    actor: Actor | None = None,
    extra_params: dict[str, Any] | None = None,
) -> OrderCreateResult:
    """Create an order, idempotent on client_order_id; the signal hands manual orders to the engine."""
    from orders import risk  # risk reads positions and orders; kept apart to keep this module about writes

    clean = clean_order_payload(payload)
    if clean.project_id is None:
        project = project_default_for(user=user)
    else:
        project = project_for_user(user=user, project_id=clean.project_id)
    if clean.mode is not None and clean.mode != project.mode:
        raise OrderValidationError(
            f"mode {clean.mode} differs from the project's mode {project.mode}",
            errors={"mode": f"the project trades in {project.mode} mode"},
        )
    _require_live_permission(user=user, project=project)

    if clean.client_order_id is not None:
        existing = TradeOrder.objects.filter(client_order_id=clean.client_order_id).first()
        if existing is not None:
            return _replay_or_conflict(existing=existing, clean=clean, project=project)

    risk.check_new_order(project=project, user=user, clean=clean)

    client_order_id = clean.client_order_id or _generate_client_order_id(project=project, user=user)
    params: dict[str, Any] = {"source": source, "project_id": project.pk, "mode": project.mode}
    params.update(extra_params or {})
    created_by = user if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            order = TradeOrder.objects.create(
                client_order_id=client_order_id,
                project=project,
                mode=project.mode,
                symbol=clean.symbol,
                side=clean.side,
                quantity=clean.quantity,
                order_type=clean.order_type,
                limit_price=clean.limit_price,
                params=params,
                created_by=created_by,
            )
            audit_record(
                actor=actor or Actor(user=user),
                action="order_create",
                project=project,
                order=order,
                detail={
                    "client_order_id": client_order_id,
                    "symbol": clean.symbol,
                    "side": clean.side,
                    "quantity": str(clean.quantity),
                    "order_type": clean.order_type,
                    "limit_price": None if clean.limit_price is None else str(clean.limit_price),
                    "source": source,
                },
            )
    except IntegrityError:
        # A concurrent request with the same client_order_id won the race.
        existing = TradeOrder.objects.filter(client_order_id=client_order_id).first()
        if existing is None:
            raise
        return _replay_or_conflict(existing=existing, clean=clean, project=project)
    return OrderCreateResult(order=order, created=True)


def positions_close(
    *, project: Project, symbols: Iterable[str], user: Any = None, actor: Actor | None = None
) -> tuple[list[TradeOrder], dict[str, str]]:
    """One closing order per symbol for what is held and not already being closed; skips say why."""
    from django.db.models import Sum

    created: list[TradeOrder] = []
    skipped: dict[str, str] = {}
    wanted = sorted({str(symbol).strip().upper() for symbol in symbols})
    positions = {
        p.symbol: p for p in Position.objects.filter(project=project, mode=project.mode, symbol__in=wanted)
    }
    for symbol in wanted:
        position = positions.get(symbol)
        if position is None or position.quantity == 0:
            skipped[symbol] = "no position"
            continue
        side = Side.SELL if position.quantity > 0 else Side.BUY
        # Working orders already closing this position count, so a double click never flips it.
        working = TradeOrder.objects.filter(
            project=project, mode=project.mode, symbol=symbol, side=side, status__in=WORKING_STATUSES
        ).aggregate(q=Sum("quantity"), f=Sum("filled_quantity"))
        pending = (working["q"] or Decimal(0)) - (working["f"] or Decimal(0))
        quantity = abs(position.quantity) - pending
        if quantity <= 0:
            skipped[symbol] = "already being closed"
            continue
        result = create_trade_order(
            {
                "project_id": project.pk,
                "symbol": symbol,
                "side": side,
                "quantity": str(quantity),
                "order_type": OrderType.MKT,
                "confirm": True,
            },
            user=user,
            actor=actor,
            extra_params={"action": "close"},
        )
        created.append(result.order)
    audit_record(
        actor=actor or Actor(user=user),
        action="positions_close",
        project=project,
        detail={"symbols": wanted, "orders": [o.client_order_id for o in created], "skipped": skipped},
    )
    return created, skipped


def positions_liquidate(
    *, project: Project, user: Any = None, actor: Actor | None = None
) -> tuple[list[TradeOrder], dict[str, str]]:
    """Close every non-zero position of the project (one tagged closing order each)."""
    symbols = list(
        Position.objects.filter(project=project, mode=project.mode)
        .exclude(quantity=0)
        .values_list("symbol", flat=True)
    )
    audit_record(
        actor=actor or Actor(user=user), action="liquidate", project=project, detail={"symbols": symbols}
    )
    return positions_close(project=project, symbols=symbols, user=user, actor=actor)


# --------------------------------------------------------------------------------------------------------
# Status and fills: the batch core
# --------------------------------------------------------------------------------------------------------


@dataclass
class EngineEvent:
    """One event for an order, from the engine (LEAN status names) or from tradedesk itself."""

    key: str
    tag: str
    status: str
    payload: dict[str, Any]
    origin: str = "engine"  # "engine": status is a LEAN name; "tradedesk": status is a tradedesk status
    run_id: str = ""
    engine_order_id: int | None = None
    engine_event_id: int | None = None
    time: datetime | None = None
    filled: Decimal | None = None
    fill_price: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str = ""
    message: str = ""

    def target_status(self) -> str | None:
        """The tradedesk status this event asks for, or None."""
        if self.origin == "tradedesk":
            return self.status if self.status in STATUS_RANK else None
        return LEAN_STATUS_MAP.get(self.status)


@dataclass
class BatchReport:
    """What applying one batch did."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0
    ignored: int = 0
    fills: int = 0
    orders_changed: set[int] = field(default_factory=set)


def _event_sort_key(event: EngineEvent) -> tuple[Any, ...]:
    ts = event.time.timestamp() if event.time else float("-inf")
    return (ts, event.engine_event_id if event.engine_event_id is not None else -1, event.key)


# Columns of a locked order that applying events reads, and those it writes back.
_ORDER_COLUMNS = (
    "id",
    "client_order_id",
    "project_id",
    "mode",
    "symbol",
    "side",
    "status",
    "status_ts",
    "status_message",
    "last_status_ts",
    "ib_order_id",
    "filled_quantity",
    "filled_notional",
    "avg_fill_price",
    "fees",
    "flag",
    "flag_message",
)
_ORDER_WRITTEN = (
    "status",
    "status_ts",
    "status_message",
    "last_status_ts",
    "ib_order_id",
    "filled_quantity",
    "filled_notional",
    "avg_fill_price",
    "fees",
    "flag",
    "flag_message",
    "updated_at",
)
# Every concrete column of Position, in model order (what Position.from_db expects).
_POSITION_COLUMNS = tuple(field.attname for field in Position._meta.concrete_fields)
_POSITION_WRITTEN = ("quantity", "avg_cost", "realized_pnl", "last_fill_price", "last_fill_at", "updated_at")
_EVENT_COLUMNS = (
    "event_key",
    "order",
    "tag",
    "status",
    "run_id",
    "engine_order_id",
    "engine_event_id",
    "event_time",
    "filled",
    "fill_price",
    "fee",
    "message",
    "payload",
    "outcome",
)
_FILL_COLUMNS = (
    "order",
    "event_key",
    "quantity",
    "price",
    "fee",
    "fee_currency",
    "filled_at",
    "run_id",
    "engine_order_id",
)


@dataclass(slots=True)
class _LockedOrder:
    """The columns of a locked order that applying events reads and changes."""

    pk: int
    client_order_id: str
    project_id: int
    mode: str
    symbol: str
    side: str
    status: str
    status_ts: datetime | None
    status_message: str
    last_status_ts: datetime | None
    ib_order_id: int | None
    filled_quantity: Decimal
    filled_notional: Decimal
    avg_fill_price: Decimal | None
    fees: Decimal
    flag: str
    flag_message: str


# Batches of this many keys first probe a sample for stored keys; all are looked up when at least 1 in
# _PROBE_FULL_RATIO of the sample is stored (a replay), else ON CONFLICT alone sorts out the few duplicates.
_PROBE_MIN_KEYS = 512
_PROBE_SAMPLE = 64
_PROBE_FULL_RATIO = 8
# From this many rows on, PostgreSQL batches are COPYed into a staging table instead of sent as arrays.
_COPY_MIN_ROWS = 256


def _postgresql() -> bool:
    return bool(connection.vendor == "postgresql")


@contextmanager
def _binary_cursor() -> Iterator[Any]:
    """A server-binding psycopg cursor in Django's transaction (array parameters travel in binary, %b)."""
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    try:
        yield connection._prepare_cursor(raw)  # Django's wrapper: query logging and execute_wrappers
    finally:
        raw.close()


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def _column(model: type[models.Model], name: str) -> str:
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
        rows = [(*row[:i], None if row[i] is None else dumps(row[i]), *row[i + 1 :]) for row in rows]
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
    with _binary_cursor() as cursor:
        # Temp tables are per session; ON COMMIT DELETE ROWS empties it at commit, TRUNCATE between uses.
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({definition}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {stage}")
        with connection.wrap_database_errors, cursor.copy(f"COPY {stage} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)
    return f"{stage} AS v", [], select


def _known_event_keys(keys: list[str]) -> set[str]:
    """The keys among `keys` that already have an ExecutionEvent (read only; the insert still decides)."""
    if _postgresql():
        with _binary_cursor() as cursor:
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


def _stored_event_keys(keys: list[str]) -> set[str]:
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


def _lock_orders(tags: set[str]) -> dict[str, _LockedOrder]:
    """Lock the orders with these tags (SELECT ... FOR UPDATE in id order): tag -> locked order."""
    if _postgresql():
        columns = ", ".join(_column(TradeOrder, name) for name in _ORDER_COLUMNS)
        with _binary_cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {TradeOrder._meta.db_table} WHERE client_order_id = ANY(%b::text[]) "
                "ORDER BY id FOR UPDATE",
                [list(tags)],
            )
            rows = cursor.fetchall()
    else:
        rows = list(
            TradeOrder.objects.select_for_update()
            .filter(client_order_id__in=tags)
            .order_by("id")
            .values_list(*_ORDER_COLUMNS)
        )
    return {row[1]: _LockedOrder(*row) for row in rows}


def _insert_new_keys(
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
    key_column = _column(model, key_field)
    column_list = ", ".join(_column(model, name) for name in [*names, *constants])
    if _postgresql():
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
        with _binary_cursor() as cursor:
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
                    field.get_db_prep_save(value, connection)
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


def _update_rows(model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE rows by primary key, each row (pk, *values of names): one statement per batch on PostgreSQL."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    columns = [_column(model, name) for name in names]
    if _postgresql():
        source, params, select = _pg_rows(model, ["pk", *names], rows)
        pairs = zip(columns, select[1:], strict=True)
        assignments = ", ".join(f"{column} = {value}" for column, value in pairs)
        with _binary_cursor() as cursor:
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


def _lock_positions(keys: set[tuple[int, str, str]], now: datetime) -> dict[tuple[int, str, str], Position]:
    """Create missing positions, then lock every one of `keys` in id order: key -> position."""
    ordered = sorted(keys)
    if _postgresql():
        table = Position._meta.db_table
        projects, modes, symbols = ([key[i] for key in ordered] for i in range(3))
        with _binary_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} "
                "(project_id, mode, symbol, quantity, avg_cost, realized_pnl, updated_at) "
                "SELECT v.*, 0, 0, 0, %b::timestamptz FROM unnest(%b::bigint[], %b::text[], %b::text[]) AS v "
                "ON CONFLICT DO NOTHING",
                [now, projects, modes, symbols],
            )
            cursor.execute(
                f"SELECT {', '.join(_column(Position, name) for name in _POSITION_COLUMNS)} FROM {table} "
                "WHERE (project_id, mode, symbol) IN "
                "(SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[])) ORDER BY id FOR UPDATE",
                [projects, modes, symbols],
            )
            rows = cursor.fetchall()
        found = [Position.from_db(connection.alias, list(_POSITION_COLUMNS), row) for row in rows]
    else:
        Position.objects.bulk_create(
            [Position(project_id=p, mode=m, symbol=s) for p, m, s in ordered], ignore_conflicts=True
        )
        condition = models.Q()
        for project_id, mode, symbol in ordered:
            condition |= models.Q(project_id=project_id, mode=mode, symbol=symbol)
        found = list(Position.objects.select_for_update().filter(condition).order_by("id"))
    return {(p.project_id, p.mode, p.symbol): p for p in found}


def _apply_position_fills(fills: list[tuple[_LockedOrder, EngineEvent]]) -> None:
    """Move each fill's position, in event-time order, locking the position rows."""
    if not fills:
        return
    now = timezone.now()
    positions = _lock_positions({(o.project_id, o.mode, o.symbol) for o, _ in fills}, now)
    for order, event in sorted(fills, key=lambda item: _event_sort_key(item[1])):
        position = positions[(order.project_id, order.mode, order.symbol)]
        assert event.filled is not None and event.fill_price is not None
        _position_add_fill(
            position, side=order.side, quantity=event.filled, price=event.fill_price, at=event.time
        )
    _update_rows(
        Position,
        _POSITION_WRITTEN,
        [
            (p.pk, p.quantity, p.avg_cost, p.realized_pnl, p.last_fill_price, p.last_fill_at, now)
            for p in positions.values()
        ],
    )


def _position_add_fill(
    position: Position, *, side: str, quantity: Decimal, price: Decimal, at: datetime | None
) -> None:
    """Average cost grows with same-direction fills; a reducing fill realises P&L; a flip restarts cost."""
    held = position.quantity
    delta = quantity if side == Side.BUY else -quantity
    if held == 0 or (held > 0) == (delta > 0):
        total = abs(held) + abs(delta)
        position.avg_cost = _q((abs(held) * position.avg_cost + abs(delta) * price) / total, PRICE_PLACES)
        position.quantity = held + delta
    else:
        closing = min(abs(delta), abs(held))
        direction = 1 if held > 0 else -1
        position.realized_pnl += closing * (price - position.avg_cost) * direction
        position.quantity = held + delta
        if position.quantity == 0:
            position.avg_cost = Decimal(0)
        elif (position.quantity > 0) != (held > 0):
            position.avg_cost = price
    position.last_fill_price = price
    if at is not None and (position.last_fill_at is None or at >= position.last_fill_at):
        position.last_fill_at = at


def apply_engine_events(events: Sequence[EngineEvent], *, source: str = "") -> BatchReport:
    """Store each new event once (by key) and apply the new ones to their orders, set-based, atomically."""
    report = BatchReport(received=len(events))
    unique: dict[str, EngineEvent] = {}
    for event in events:
        if event.key in unique:
            report.duplicates += 1
        else:
            unique[event.key] = event
    if not unique:
        return report
    now = timezone.now()
    with transaction.atomic():
        # Keys already stored are duplicates whatever happens next; the insert below decides for the rest.
        known = _stored_event_keys(list(unique))
        if known:
            report.duplicates += len(known)
            unique = {key: event for key, event in unique.items() if key not in known}
            if not unique:
                return report
        orders = _lock_orders({event.tag for event in unique.values()})
        rows = []
        applied_outcome, ignored_outcome = ExecutionEvent.Outcome.APPLIED, ExecutionEvent.Outcome.IGNORED
        for event in unique.values():
            order = orders.get(event.tag)
            if order is None:
                outcome = ExecutionEvent.Outcome.UNMATCHED
            else:
                target = event.target_status()
                lower = target is not None and STATUS_RANK[target] < STATUS_RANK[order.status]
                outcome = ignored_outcome if lower else applied_outcome
            rows.append(
                (event.key, order.pk if order else None, event.tag[:200], event.status[:64],
                 event.run_id[:100], event.engine_order_id, event.engine_event_id, event.time, event.filled,
                 event.fill_price, event.fee, event.message, event.payload, outcome)
            )  # fmt: skip
        new_keys = _insert_new_keys(
            ExecutionEvent, _EVENT_COLUMNS, rows, "event_key", {"source": source[:500], "received_at": now}
        )
        report.duplicates += len(unique) - len(new_keys)
        by_order: dict[int, list[EngineEvent]] = defaultdict(list)
        for key, event in unique.items():
            if key not in new_keys:
                continue
            order = orders.get(event.tag)
            if order is None:
                report.unmatched += 1
                logger.warning("unmatched engine event", extra={"tag": event.tag, "status": event.status})
                continue
            report.applied += 1
            by_order[order.pk].append(event)
        if by_order:
            _apply_to_orders(
                orders=[o for o in orders.values() if o.pk in by_order], by_order=by_order, report=report
            )
    return report


def _apply_to_orders(
    *, orders: list[_LockedOrder], by_order: dict[int, list[EngineEvent]], report: BatchReport
) -> None:
    """Fold new events into their (locked) orders: highest status wins, fills summed once, positions moved."""
    fill_rows: list[tuple[Any, ...]] = []
    fill_events: dict[str, tuple[_LockedOrder, EngineEvent]] = {}
    changed: dict[int, _LockedOrder] = {}
    engine_flags = (OrderFlag.STALE, OrderFlag.COMMAND_UNREAD, OrderFlag.ENGINE_DOWN)
    for order in orders:
        events = by_order[order.pk]
        if len(events) > 1:
            events.sort(key=_event_sort_key)
        before = (order.status, order.status_message, order.last_status_ts, order.ib_order_id, order.flag)
        was_failed = order.status == OrderStatus.FAILED
        for event in events:
            target = event.target_status()
            if target is None and was_failed and event.origin == "engine":
                # FAILED is tradedesk's own guess; any engine event proves the engine has the order.
                target = OrderStatus.SUBMITTED
            if event.origin == "engine":
                if event.engine_order_id is not None and (
                    order.ib_order_id is None
                    or order.last_status_ts is None
                    or (event.time is not None and event.time >= order.last_status_ts)
                ):
                    order.ib_order_id = event.engine_order_id
                if order.flag in engine_flags:
                    order.flag, order.flag_message = "", ""
            if event.time is not None and (order.last_status_ts is None or event.time > order.last_status_ts):
                order.last_status_ts = event.time
            if target is not None:
                rank, current = STATUS_RANK[target], STATUS_RANK[order.status]
                later = event.time is not None and (order.status_ts is None or event.time > order.status_ts)
                if rank > current or (rank == current and later):
                    order.status = target
                    order.status_ts = event.time
                    order.status_message = event.message
                elif rank < current:
                    report.ignored += 1
                    logger.info(
                        "status not applied",
                        extra={"order": order.client_order_id, "status": target, "current": order.status},
                    )
            if event.filled is not None and event.filled > 0 and event.fill_price is not None:
                fill_rows.append(
                    (order.pk, event.key, event.filled, event.fill_price, event.fee or Decimal(0),
                     event.fee_currency[:8], event.time, event.run_id[:100], event.engine_order_id)
                )  # fmt: skip
                fill_events[event.key] = (order, event)
        after = (order.status, order.status_message, order.last_status_ts, order.ib_order_id, order.flag)
        if after != before:
            changed[order.pk] = order
    now = timezone.now()
    new_fill_keys = _insert_new_keys(TradeFill, _FILL_COLUMNS, fill_rows, "event_key", {"created_at": now})
    applied_fills = [fill for key, fill in fill_events.items() if key in new_fill_keys]
    for order, event in applied_fills:
        assert event.filled is not None and event.fill_price is not None
        order.filled_quantity += event.filled
        order.filled_notional += event.filled * event.fill_price
        order.fees += event.fee or Decimal(0)
        order.avg_fill_price = _q(order.filled_notional / order.filled_quantity, PRICE_PLACES)
        changed[order.pk] = order
    report.fills += len(applied_fills)
    if changed:
        report.orders_changed.update(changed)
        _update_rows(
            TradeOrder,
            _ORDER_WRITTEN,
            [
                (
                    o.pk,
                    o.status,
                    o.status_ts,
                    o.status_message,
                    o.last_status_ts,
                    o.ib_order_id,
                    o.filled_quantity,
                    o.filled_notional,
                    o.avg_fill_price,
                    o.fees,
                    o.flag,
                    o.flag_message,
                    now,
                )
                for o in changed.values()
            ],
        )
    _apply_position_fills(applied_fills)


def _tradedesk_event(order: TradeOrder, status: str, message: str, at: datetime | None) -> EngineEvent:
    at = at or timezone.now()
    payload = {
        "tag": order.client_order_id,
        "status": status,
        "origin": "tradedesk",
        "time": at.isoformat(),
        "message": message,
        "nonce": uuid.uuid4().hex,
    }
    return EngineEvent(
        key=hashlib.sha256(canonical_json(payload).encode()).hexdigest(),
        tag=order.client_order_id,
        status=status,
        payload=payload,
        origin="tradedesk",
        time=at,
        message=message,
    )


@dataclass(frozen=True)
class StatusChange:
    """The outcome of a requested status change."""

    order: TradeOrder
    applied: bool
    previous: str


def update_trade_orders_status(
    changes: Iterable[tuple[TradeOrder, str, str]], *, at: datetime | None = None, source: str = "tradedesk"
) -> BatchReport:
    """Batch form of update_trade_order_status: (order, status, message) triples, one transaction."""
    events = []
    for order, status, message in changes:
        if status not in STATUS_RANK:
            raise ValueError(f"unknown order status {status!r}")
        events.append(_tradedesk_event(order, status, message, at))
    return apply_engine_events(events, source=source)


def update_trade_order_status(
    order: TradeOrder, status: str, *, message: str = "", at: datetime | None = None
) -> StatusChange:
    """Move an order to `status` if the contract's rank allows; a refused move is recorded, not raised."""
    previous = TradeOrder.objects.values_list("status", flat=True).get(pk=order.pk)
    update_trade_orders_status([(order, status, message)], at=at)
    order.refresh_from_db()
    applied = order.status == status and (previous != status or order.status_message == message)
    if not applied:
        logger.warning(
            "status transition refused",
            extra={"order": order.client_order_id, "from": previous, "to": status},
        )
    return StatusChange(order=order, applied=applied, previous=previous)


def apply_fills_to_orders(fills: Iterable[dict[str, Any]], *, source: str = "tradedesk") -> BatchReport:
    """Batch form of apply_fill_to_order: dicts with order, quantity, price, fee, at, event_key."""
    events = []
    for fill in fills:
        order: TradeOrder = fill["order"]
        quantity = _q(Decimal(str(fill["quantity"])), QTY_PLACES)
        price = _q(Decimal(str(fill["price"])), PRICE_PLACES)
        fee = _q(Decimal(str(fill.get("fee", 0))), MONEY_PLACES)
        if quantity <= 0 or price < 0 or fee < 0:
            raise OrderValidationError("a fill needs quantity > 0, price >= 0 and fee >= 0")
        at = fill.get("at") or timezone.now()
        payload = {
            "tag": order.client_order_id,
            "status": "Fill",
            "origin": "tradedesk",
            "filled": str(quantity),
            "fill_price": str(price),
            "fee": str(fee),
            "time": at.isoformat(),
        }
        key = (
            fill.get("event_key")
            or hashlib.sha256(canonical_json({**payload, "nonce": uuid.uuid4().hex}).encode()).hexdigest()
        )
        events.append(
            EngineEvent(
                key=key,
                tag=order.client_order_id,
                status="Fill",
                payload=payload,
                origin="tradedesk",
                time=at,
                filled=quantity,
                fill_price=price,
                fee=fee,
            )
        )
    return apply_engine_events(events, source=source)


def apply_fill_to_order(
    order: TradeOrder,
    *,
    quantity: Decimal | int | str,
    price: Decimal | int | str,
    fee: Decimal | int | str = 0,
    at: datetime | None = None,
    event_key: str | None = None,
) -> TradeOrder:
    """Record one fill: the order's filled quantity, average price, fees and position move together."""
    apply_fills_to_orders(
        [{"order": order, "quantity": quantity, "price": price, "fee": fee, "at": at, "event_key": event_key}]
    )
    order.refresh_from_db()
    return order


# --------------------------------------------------------------------------------------------------------
# Dispatch bookkeeping (called by the execution app)
# --------------------------------------------------------------------------------------------------------


def trade_order_claim_for_dispatch(*, order_id: int) -> TradeOrder | None:
    """Claim a NEW, never-dispatched order atomically; None when someone else already has it."""
    now = timezone.now()
    claimed = TradeOrder.objects.filter(
        pk=order_id, dispatched_at__isnull=True, status=OrderStatus.NEW
    ).update(dispatched_at=now, dispatch_attempts=models.F("dispatch_attempts") + 1, updated_at=now)
    if claimed != 1:
        return None
    return TradeOrder.objects.select_related("project").get(pk=order_id)


def trade_order_release_claim(*, order_id: int, reason: str) -> bool:
    """Give back a claim for an order that provably never reached the engine, so it is dispatched again."""
    released = TradeOrder.objects.filter(
        pk=order_id, status=OrderStatus.NEW, dispatched_at__isnull=False
    ).update(dispatched_at=None, updated_at=timezone.now())
    if released:
        logger.warning("dispatch claim released", extra={"order_id": order_id, "reason": reason})
    return bool(released)


def trade_order_record_dispatch(*, order_id: int, manual_execution: dict[str, Any]) -> None:
    """Store where and how the order was handed over (params.manual_execution)."""
    with transaction.atomic():
        order = TradeOrder.objects.select_for_update().get(pk=order_id)
        params = dict(order.params)
        params["manual_execution"] = {**params.get("manual_execution", {}), **manual_execution}
        order.params = params
        order.save(update_fields=["params", "updated_at"])


def trade_orders_flag(*, order_ids: Iterable[int], flag: str, message: str) -> int:
    """Flag working orders (stale, engine down, command unread) until an engine event clears it."""
    ids = list(order_ids)
    if not ids:
        return 0
    return TradeOrder.objects.filter(pk__in=ids, status__in=WORKING_STATUSES).update(
        flag=flag, flag_message=message[:2000], updated_at=timezone.now()
    )


def trade_order_cancel_unsent(*, order: TradeOrder, actor: Actor | None = None) -> bool:
    """Cancel an order that was never handed to an engine; False when it already was."""
    now = timezone.now()
    with transaction.atomic():
        claimed = TradeOrder.objects.filter(
            pk=order.pk, dispatched_at__isnull=True, status=OrderStatus.NEW
        ).update(dispatched_at=now, updated_at=now)
        if not claimed:
            return False
        update_trade_orders_status([(order, OrderStatus.CANCELED, "canceled before it reached the engine")])
        audit_record(actor=actor, action="order_cancel", project=order.project, order=order)
    order.refresh_from_db()
    return True


def trade_order_mark_reviewed(*, order: TradeOrder, user: Any, note: str = "") -> TradeOrder:
    """Record a desk lead's review of an order."""
    with transaction.atomic():
        order.reviewed_by = user
        order.reviewed_at = timezone.now()
        order.review_note = note
        order.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
        audit_record(
            actor=Actor(user=user, channel="admin"), action="review", project=order.project, order=order
        )
    return order


# --------------------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------------------


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, user: Any, name: str = "") -> tuple[ApiToken, str]:
    """A new random token; the raw value is returned once and only its SHA-256 is stored."""
    raw = "td_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, token_hash=_hash_token(raw), prefix=raw[:10])
    return token, raw


def api_token_authenticate(*, raw: str) -> Any | None:
    """The active user owning this token, or None."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a token; it stops working at once."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


__all__ = [
    "CLOSED_STATUSES",
    "Actor",
    "BatchReport",
    "EngineEvent",
    "OrderCreateResult",
    "apply_engine_events",
    "apply_fill_to_order",
    "apply_fills_to_orders",
    "create_trade_order",
    "update_trade_order_status",
    "update_trade_orders_status",
]
