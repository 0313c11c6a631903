"""Brackets on PostgreSQL with real parallel events (threads, each its own connection) and the simulator engine
process: children grow with the entry's fills whatever the order of the batches, the engine's one-cancels-other
cancels the stop loss when the take profit fills, a Close during a working bracket leaves it flat, and the group
survives an engine restart (its legs re-homed by the open-orders line, tradedesk's safety net keeping them OCO,
tradedesk placing and growing the legs of a group no run holds: docs/engine-contract.md section 14, "Across a
restart")."""

from __future__ import annotations

import json
import random
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from execution import actions
from execution.engine import config as engine_config
from execution.engine import process as engines
from orders.models import AuditLog, BracketRole, BracketState, OrderStatus, Project, TradeOrder
from orders.services import create_trade_order
from tests.orders.services.test_brackets import Engine
from tests.test_concurrency import closing_orders, in_parallel, ingest_until, position, post_json, reload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def place(project: Project, user: Any, **fields: Any) -> TradeOrder:
    payload = {"project_id": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": 6, "confirm": True,
               **fields}  # fmt: skip
    return create_trade_order(payload, user=user, source="test").order


def legs(entry: TradeOrder) -> tuple[TradeOrder, TradeOrder]:
    children = {child.bracket_role: child for child in TradeOrder.objects.filter(parent=entry)}
    return children[BracketRole.TAKE_PROFIT], children[BracketRole.STOP_LOSS]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parallel_batches_of_partial_entry_fills_grow_the_children_to_what_filled(
    project: Project, user: Any, seed: int
) -> None:
    entry = place(project, user, order_type="LMT", limit_price="190", take_profit_price="200",
                  stop_loss_price="180")  # fmt: skip
    take, stop = legs(entry)
    engine = Engine()
    lines = [engine.line(entry, "Submitted")]
    for part in (1, 2, 3):
        lines.append(engine.line(entry, "Filled" if part == 3 else "PartiallyFilled", 2, "190"))
        for child in (take, stop):
            lines.append(engine.line(child, "Submitted" if part == 1 else "UpdateSubmitted",
                                     **({"bracket_resize": True} if part > 1 else {})))  # fmt: skip
    random.Random(seed).shuffle(lines)
    in_parallel(len(lines), lambda index: engine.apply(lines[index]))
    for child in (take, stop):
        assert (reload(child).status, child.quantity, child.overfilled) == ("SUBMITTED", Decimal(6), False)
    assert reload(entry).filled_quantity == Decimal(6) and not entry.bracket_overfilled
    assert position(project, "AAPL") == Decimal(6)


def ingest_in_parallel(stop: threading.Event) -> list[threading.Thread]:
    """Two ingesters racing on the engine's file (the watcher and beat), until `stop` is set."""

    def run() -> None:
        try:
            while not stop.is_set():
                actions.ingest_execution_events(mode="paper")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    return threads


def test_a_take_profit_fill_cancels_the_stop_loss_in_the_engine(project: Project, user: Any) -> None:
    # The walk starts at 190: a take profit just above it fills soon; the stop loss far below never triggers.
    entry = place(project, user, quantity=3, take_profit_price="190.05", stop_loss_price="100")
    take, stop = legs(entry)
    assert actions.order_dispatch(order_id=entry.pk).outcome == "dispatched"
    done = threading.Event()
    threads = ingest_in_parallel(done)
    try:
        assert ingest_until(lambda: reload(take).status == "FILLED" and reload(stop).status == "CANCELED")
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert reload(stop).status_message.startswith("one-cancels-other")
    assert (reload(entry).status, take.filled_quantity, stop.filled_quantity) == ("FILLED", 3, 0)
    assert position(project, "AAPL") == 0


def test_a_close_during_a_working_bracket_leaves_the_position_flat_and_no_child_working(
    project: Project, user: Any, token: str, settings: Any
) -> None:
    settings.TRADEDESK_SIM_PARTIAL_FILLS = 3
    settings.TRADEDESK_SIM_FILL_DELAY = 0.3
    entry = place(project, user, take_profit_price="10000", stop_loss_price="1")
    take, stop = legs(entry)
    assert actions.order_dispatch(order_id=entry.pk).outcome == "dispatched"
    assert ingest_until(lambda: reload(take).status == "SUBMITTED" and take.ib_order_id is not None)

    responses = in_parallel(
        3,
        lambda _i: post_json(
            token, "/api/trade/positions/close", {"project_id": project.pk, "symbols": ["AAPL"]}
        ),
    )
    assert sum(len(response.json()["orders"]) for response in responses) == 1
    (close,) = closing_orders(project)
    assert ingest_until(lambda: reload(close).status in ("FILLED", "CANCELED")), reload(close)
    assert ingest_until(lambda: reload(take).status == reload(stop).status == OrderStatus.CANCELED)
    assert reload(entry).bracket_state == BracketState.CLOSED
    assert position(project, "AAPL") == 0
    assert not TradeOrder.objects.filter(parent=entry, status__in=["HELD", "SUBMITTED", "PARTIALLY_FILLED"])


def test_a_bracket_survives_an_engine_restart_through_re_homing_and_the_safety_net_keeps_it_oco(
    project: Project, user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run 1: the entry fills, both legs rest (far away). The simulator's broker keeps them across its restart
    # and run 2 reloads them untagged (as LEAN reloads IB's open orders): the open-orders line re-homes each.
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    engines.engine_start("paper")
    entry = place(project, user, quantity=3, take_profit_price="10000", stop_loss_price="1")
    take, stop = legs(entry)
    assert actions.order_dispatch(order_id=entry.pk).outcome == "dispatched"
    assert ingest_until(
        lambda: all(reload(leg).status == "SUBMITTED" and leg.broker_order_id for leg in (take, stop))
    )
    run_1 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    engines.stop_engine("paper")
    # Run 2's walk starts far above the take profit: it fills at once, in a run that no longer knows the group.
    monkeypatch.setitem(engine_config.SIMULATOR_REFERENCE_PRICES, "AAPL", 20000.0)
    engines.engine_start("paper")
    run_2 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    assert run_2 != run_1
    assert ingest_until(lambda: reload(take).status == "FILLED")
    # tradedesk's safety net: the stop loss's cancel is requested and sent to run 2, which holds it now.
    assert ingest_until(lambda: reload(stop).status == "CANCELED")
    assert stop.params["manual_execution"]["run_id"] == run_2 and stop.cancel_requested_at is not None
    assert AuditLog.objects.filter(order=stop, action="order_cancel_requested").exists()
    assert position(project, "AAPL") == 0 and not reload(entry).bracket_overfilled
    engines.stop_engine("paper")


def kept_orders() -> list[tuple[int, str]]:
    """(broker id, signed quantity) of each working order the simulator's broker keeps across its runs."""
    kept = json.loads((engines.engine_folder("paper").path / "simulator-orders.json").read_text())["orders"]
    return sorted((order["broker_id"], order["quantity"]) for order in kept)


def test_across_a_restart_tradedesk_places_an_unfilled_entrys_legs_once_it_fills_in_the_new_run(
    project: Project, user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No run re-arms a group (docs/engine-contract.md section 14, "Across a restart"): the re-homed entry's
    # group is tradedesk's, which places each leg once the entry fills, for what filled.
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    project.price_band_soft_pct = project.price_band_hard_pct = Decimal("99.9")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])
    engines.engine_start("paper")
    entry = place(project, user, quantity=3, order_type="LMT", limit_price="100", take_profit_price="10000",
                  stop_loss_price="1")  # fmt: skip
    take, stop = legs(entry)
    assert actions.order_dispatch(order_id=entry.pk).outcome == "dispatched"
    assert ingest_until(lambda: reload(entry).status == "SUBMITTED" and reload(entry).broker_order_id)
    engines.stop_engine("paper")
    # Run 2's walk starts below the entry's limit: the re-homed entry fills there at once.
    monkeypatch.setitem(engine_config.SIMULATOR_REFERENCE_PRICES, "AAPL", 50.0)
    engines.engine_start("paper")
    run_2 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    assert ingest_until(lambda: reload(entry).status == "FILLED")
    assert ingest_until(
        lambda: all(
            reload(leg).status == OrderStatus.SUBMITTED and leg.broker_order_id for leg in (take, stop)
        )
    )
    assert [(leg.quantity, leg.engine_record.run_id) for leg in (reload(take), reload(stop))] == [
        (3, run_2),
        (3, run_2),
    ]
    # One copy of each leg at the broker, sized to the fill.
    assert kept_orders() == sorted((int(leg.broker_order_id), "-3") for leg in (take, stop))
    assert AuditLog.objects.filter(order=take, action="bracket_leg_placed").count() == 1
    # A Close cancels both legs, closes the group and flattens the position.
    closing = actions.project_close_positions(project=project, symbols=["AAPL"], user=user).orders
    assert ingest_until(lambda: reload(closing[0]).status == OrderStatus.FILLED)
    assert ingest_until(lambda: reload(take).status == reload(stop).status == OrderStatus.CANCELED)
    assert position(project, "AAPL") == 0 and reload(entry).bracket_state == BracketState.CLOSED
    assert kept_orders() == []
    engines.stop_engine("paper")


def test_across_a_restart_tradedesk_grows_a_partly_filled_entrys_legs_at_the_broker_and_they_re_home_again(
    project: Project, user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run 1 fills one of three parts (a part every 4 s) and places both legs for it; run 2 fills the rest and
    # tradedesk grows the legs there (update commands), so run 3 re-homes them at their size.
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    settings.TRADEDESK_SIM_PARTIAL_FILLS, settings.TRADEDESK_SIM_FILL_DELAY = 3, 4.0
    project.price_band_soft_pct = project.price_band_hard_pct = Decimal("99.9")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])
    engines.engine_start("paper")
    entry = place(project, user, quantity=3, order_type="LMT", limit_price="300", take_profit_price="10000",
                  stop_loss_price="1")  # fmt: skip
    take, stop = legs(entry)
    assert actions.order_dispatch(order_id=entry.pk).outcome == "dispatched"
    assert ingest_until(
        lambda: (
            reload(entry).filled_quantity == 1
            and all(
                reload(leg).status == OrderStatus.SUBMITTED and leg.broker_order_id for leg in (take, stop)
            )
        )
    )
    engines.stop_engine("paper")
    settings.TRADEDESK_SIM_FILL_DELAY = 0.05
    engines.engine_start("paper")
    run_2 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    assert ingest_until(lambda: reload(entry).status == OrderStatus.FILLED)
    assert ingest_until(
        lambda: all(reload(leg).quantity == 3 and not leg.update_pending for leg in (take, stop))
    )
    assert [leg.engine_record.run_id for leg in (reload(take), reload(stop))] == [run_2, run_2]
    assert kept_orders() == sorted((int(leg.broker_order_id), "-3") for leg in (take, stop))
    assert position(project, "AAPL") == 3
    engines.stop_engine("paper")
    engines.engine_start("paper")
    run_3 = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    assert ingest_until(lambda: all(reload(leg).engine_record.run_id == run_3 for leg in (take, stop)))
    assert not any(reload(leg).flag for leg in (take, stop))
    closing = actions.project_close_positions(project=project, symbols=["AAPL"], user=user).orders
    assert ingest_until(lambda: reload(closing[0]).status == OrderStatus.FILLED)
    assert ingest_until(lambda: reload(take).status == reload(stop).status == OrderStatus.CANCELED)
    assert position(project, "AAPL") == 0 and reload(entry).bracket_state == BracketState.CLOSED
    engines.stop_engine("paper")
