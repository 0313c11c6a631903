"""The watcher's passes after a drain (cancels, closes, bracket legs) run for what the changed orders can need:
none for a plain order's lines, and at once, in the same wake-up, for a cancel, a close or a leg a line unblocked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from execution.actions import watch as watch_module
from execution.actions.watch import watch_once, watch_passes_needed
from execution.dispatch import cancels
from execution.engine import process as engines
from orders.models import BracketRole, OrderStatus, TradeOrder
from orders.services import CLOSE_ACTION
from orders.services.positions import HOLD_KEY
from tests.factories import TradeOrderFactory
from tests.orders.services.test_bracket_desk import rehome
from tests.orders.services.test_brackets import Engine, bracket, legs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events_file(execution_root: Path) -> Path:
    path = engines.engine_dir("paper") / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def passes(monkeypatch: Any) -> dict[str, list[str | None]]:
    """Every pass the watcher runs, recorded by name (with its mode) and still run."""
    calls: dict[str, list[str | None]] = {"cancels": [], "closes": [], "brackets": []}
    for name, module, attribute in (
        ("cancels", cancels, "cancels_send_pending"),
        ("closes", watch_module, "closes_release"),
        ("brackets", watch_module, "bracket_legs_send"),
    ):
        original = getattr(module, attribute)

        def recorded(*, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls[_name].append(kwargs.get("mode"))
            return _original(**kwargs)

        monkeypatch.setattr(module, attribute, recorded)
    return calls


@pytest.fixture
def enqueued(monkeypatch: Any) -> list[int]:
    """The orders the watcher hands to dispatch (not dispatched: nothing runs the tasks here)."""
    ids: list[int] = []
    monkeypatch.setattr(watch_module, "_enqueue", ids.append)
    return ids


def write(path: Path, *events: dict[str, Any]) -> None:
    with open(path, "a") as handle:
        handle.writelines(json.dumps(event) + "\n" for event in events)


def line(order: TradeOrder, status: str, event_id: int, **extra: Any) -> dict[str, Any]:
    return {"tag": order.client_order_id, "status": status, "order_id": 7, "event_id": event_id,
            "run_id": "r-1", **extra}  # fmt: skip


def held_close(project: Any, *, symbol: str, waits_for: list[int]) -> TradeOrder:
    """A closing order held until the orders it waits for are no longer working."""
    params = {"source": "test", "project_id": project.pk, "mode": project.mode, "action": CLOSE_ACTION,
              HOLD_KEY: waits_for}  # fmt: skip
    return TradeOrderFactory(project=project, symbol=symbol, side="SELL", params=params, dispatched_at=None)


def test_a_plain_orders_lines_run_no_pass(
    events_file: Path, project: Any, passes: dict[str, list[str | None]]
) -> None:
    order = TradeOrderFactory(project=project, symbol="AAPL")
    # A close held on another symbol is not this order's business: beat's pass releases it.
    held_close(project, symbol="KO", waits_for=[])
    write(events_file, line(order, "Submitted", 1), line(order, "Filled", 2, filled=1, fill_price=101.5))

    report = watch_once()

    assert report.applied == 2 and TradeOrder.objects.get(pk=order.pk).status == OrderStatus.FILLED
    assert passes == {"cancels": [], "closes": [], "brackets": []}
    # Deciding that costs one query, whatever the number of orders the drain changed.
    other = TradeOrderFactory(project=project)
    with CaptureQueriesContext(connection) as queries:
        assert not watch_passes_needed(order_ids={order.pk, other.pk}).run()
    assert len(queries) == 1


def test_a_cancel_waiting_for_the_engines_id_is_sent_in_the_wake_up_of_the_submitted_line(
    events_file: Path, project: Any, monkeypatch: Any, passes: dict[str, list[str | None]]
) -> None:
    monkeypatch.setattr(engines, "running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    params = {
        "source": "manual",
        "project_id": project.pk,
        "mode": "paper",
        "manual_execution": {"run_id": "r-1"},
    }
    order = TradeOrderFactory(project=project, params=params)
    # Handed to the engine, not acknowledged yet: the cancel task found no engine id to cancel.
    TradeOrder.objects.filter(pk=order.pk).update(
        dispatched_at=timezone.now(), cancel_requested_at=timezone.now()
    )
    write(events_file, line(order, "Submitted", 1))

    watch_once()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_PENDING and order.cancel_sent_at is not None
    commands = list(events_file.parent.glob("command-*.json"))
    assert len(commands) == 1 and '"OrderId": 7' in commands[0].read_text()
    assert passes == {"cancels": ["paper"], "closes": [], "brackets": []}


def test_a_held_close_is_released_in_the_wake_up_that_ends_the_order_it_waits_for(
    events_file: Path, project: Any, enqueued: list[int], passes: dict[str, list[str | None]]
) -> None:
    blocker = TradeOrderFactory(project=project, symbol="KO", status=OrderStatus.SUBMITTED, ib_order_id=7)
    close = held_close(project, symbol="KO", waits_for=[blocker.pk])
    write(events_file, line(blocker, "Canceled", 1))

    watch_once()

    assert enqueued == [close.pk]
    assert passes == {"cancels": [], "closes": ["paper"], "brackets": []}


def test_the_legs_of_a_re_homed_bracket_are_placed_in_the_wake_up_of_its_entrys_fill(
    events_file: Path, project: Any, user: Any, enqueued: list[int], passes: dict[str, list[str | None]]
) -> None:
    entry = bracket(project, user)
    engine = Engine()
    engine.apply(engine.line(entry, "Submitted"))
    rehome(entry, engine_order_id=1)
    write(events_file, engine.line(entry, "PartiallyFilled", 4, "50"))

    watch_once()

    children = legs(entry)
    assert sorted(enqueued) == sorted(child.pk for child in children.values())
    assert {child.status for child in children.values()} == {OrderStatus.NEW}
    assert children[BracketRole.TAKE_PROFIT].quantity == 4
    assert passes == {"cancels": [], "closes": [], "brackets": ["paper"]}


def test_a_line_landing_during_a_pass_is_applied_before_the_next_pass(
    events_file: Path, project: Any, monkeypatch: Any
) -> None:
    order = TradeOrderFactory(project=project, symbol="KO", quantity=2)
    TradeOrder.objects.filter(pk=order.pk).update(cancel_requested_at=timezone.now())
    held_close(project, symbol="KO", waits_for=[order.pk])
    send = cancels.cancels_send_pending
    seen_by_closes: list[str] = []

    def send_while_the_fill_lands(**kwargs: Any) -> list[int]:
        write(events_file, line(order, "PartiallyFilled", 2, filled=1, fill_price=50.0))
        return send(**kwargs)

    def closes(**kwargs: Any) -> list[int]:
        seen_by_closes.append(TradeOrder.objects.get(pk=order.pk).status)
        return []

    monkeypatch.setattr(cancels, "cancels_send_pending", send_while_the_fill_lands)
    monkeypatch.setattr(watch_module, "closes_release", closes)
    write(events_file, line(order, "Submitted", 1))

    watch_once()

    # The first closes pass already saw the fill written during the cancels pass (not one pass later).
    assert seen_by_closes[0] == OrderStatus.PARTIALLY_FILLED
