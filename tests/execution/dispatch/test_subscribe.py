"""The one subscribe path: an engine started without an order trades a symbol it does not hold (simulator
end to end), and symbol_subscribe is a door others call (idempotent, cheap, clear errors)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from execution import actions
from execution.engine import process as engines
from execution.engine.subscribe import SUBSCRIBE_PREFIX, subscribe_command_id
from orders.errors import OrderValidationError
from orders.models import OrderStatus, TradeOrder
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for


@pytest.mark.django_db
def test_engine_started_without_an_order_trades_a_symbol_it_does_not_hold(
    settings: Any, project: Any
) -> None:
    settings.TRADEDESK_ENGINE_AUTOSTART = False  # production: the engine unit started it
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    engines.engine_start("paper")
    run_id = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    order = TradeOrderFactory(project=project, symbol="NVDA", params={"source": "test", "mode": "paper"})

    result = actions.order_dispatch(order_id=order.pk)

    assert result.outcome == "dispatched" and result.detail == "command accepted"
    folder = engines.engine_dir("paper")
    subscribe_result = folder / f"result-command-{subscribe_command_id(run_id=run_id, symbol='NVDA')}.json"
    packet = json.loads(wait_for(lambda: subscribe_result.exists() and subscribe_result.read_text(), 10))
    assert packet["CommandName"] == "AddSecurityCommand" and packet["Success"] is True
    log = (folder / "engine.log").read_text()
    # Read in LEAN's order: the subscribe file sorts before the order's command file.
    assert log.index(f"reading command file {SUBSCRIBE_PREFIX}NVDA.json") < log.index("OrderCommand: ok")

    def filled() -> bool:
        actions.ingest_execution_events(mode="paper")
        return TradeOrder.objects.get(pk=order.pk).status == OrderStatus.FILLED

    assert wait_for(filled, 15), TradeOrder.objects.get(pk=order.pk).status


@pytest.mark.django_db
def test_symbol_subscribe_is_idempotent_and_needs_a_running_engine() -> None:
    assert actions.symbol_subscribe(mode="paper", symbol="AMD") == "no engine running"
    engines.engine_start("paper")
    assert actions.symbol_subscribe(mode="paper", symbol="AMD") == "subscribed"
    assert actions.symbol_subscribe(mode="paper", symbol="AMD") == "already subscribed"
    run_id = engines.running_engine("paper")["run_id"]  # type: ignore[index]
    result = (
        engines.engine_dir("paper")
        / f"result-command-{subscribe_command_id(run_id=run_id, symbol='AMD')}.json"
    )
    assert wait_for(result.exists, 10)


@pytest.mark.parametrize(
    ("mode", "symbol", "field"),
    [("paper", "nvda", "symbol"), ("paper", "A B", "symbol"), ("demo", "AMD", "mode")],
)
def test_symbol_subscribe_refuses_bad_input_and_writes_nothing(
    mode: str, symbol: str, field: str, execution_root: Any
) -> None:
    with pytest.raises(OrderValidationError) as refused:
        actions.symbol_subscribe(mode=mode, symbol=symbol)
    assert field in refused.value.errors
    assert not list(execution_root.glob("engines/*/command*.json"))
