"""The engine-down rule (execution.dispatch.engine_down_reason, orders.services.order_engine_down_check): while a
mode's engine is known to be down and nothing starts it for an order (autostart off), a new order, a close and a
liquidation are refused with the reason (EngineDown, 422 engine_down) and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from execution import actions
from execution.dispatch import engine_down_reason
from orders.errors import EngineDown
from orders.models import AuditLog, Project, TradeOrder
from tests.conftest import ENGINE_DOWN_REASON as TWO_FA

pytestmark = pytest.mark.django_db

ORDER = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT"}


def test_the_reason_names_the_state_and_what_lean_said(engine_down: str) -> None:
    reason = engine_down_reason("paper")
    assert reason.startswith(
        f"the PAPER engine is down (stopped: LEAN ended the run on a brokerage message: {TWO_FA}) and nothing "
        "starts it for an order here (TRADEDESK_ENGINE_AUTOSTART is off)"
    )
    assert "`manage.py engine start --mode paper`" in reason and reason.endswith("nothing was placed")
    assert engine_down_reason("live").startswith("the LIVE engine is down (not started)")


def test_no_refusal_when_an_order_starts_the_engine_or_this_host_cannot_see_it(
    settings: Any, engine_down: str
) -> None:
    settings.TRADEDESK_ENGINE_AUTOSTART = True
    assert engine_down_reason("paper") == ""
    settings.TRADEDESK_ENGINE_AUTOSTART, settings.TRADEDESK_ENGINE_FILES_LOCAL = False, False
    assert engine_down_reason("paper") == ""  # a web host: the engine host's worker decides


def test_no_refusal_while_the_engine_runs(engine_down: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(
        "execution.engine.state.running_engine", lambda mode: {"pid": 1, "run_id": "r-10", "started_at": "y"}
    )
    assert engine_down_reason("paper") == ""


def test_a_new_order_is_refused_with_the_reason_and_nothing_is_stored(
    engine_down: str, project: Project, user: Any
) -> None:
    with pytest.raises(EngineDown) as refused:
        actions.create_trade_order({**ORDER, "project_id": project.pk}, user=user)
    assert (refused.value.status_code, refused.value.code) == (422, "engine_down")
    assert refused.value.message == engine_down_reason("paper") and TWO_FA in refused.value.message
    assert not TradeOrder.objects.exists() and not AuditLog.objects.filter(action="order_create").exists()


def test_a_replayed_order_is_still_answered_with_the_existing_one(
    engine_down: str, project: Project, user: Any, settings: Any
) -> None:
    payload = {**ORDER, "project_id": project.pk, "client_order_id": "oi_1_1_1764000000001_abcdef"}
    settings.TRADEDESK_ENGINE_AUTOSTART = True
    placed = actions.create_trade_order(payload, user=user).order  # an order could start the engine then
    settings.TRADEDESK_ENGINE_AUTOSTART = False
    again = actions.create_trade_order(payload, user=user)
    assert (again.order.pk, again.created) == (placed.pk, False)


def test_close_and_liquidate_say_the_same_and_change_nothing(
    engine_down: str, holding: Project, user: Any
) -> None:
    before = list(TradeOrder.objects.order_by("pk").values_list("pk", "status", "cancel_requested_at"))
    for door in (
        lambda: actions.project_close_positions(project=holding, symbols=["KO"], user=user),
        lambda: actions.project_liquidate(project=holding, user=user),
    ):
        with pytest.raises(EngineDown) as refused:
            door()
        assert refused.value.message == engine_down_reason("paper")
    assert (
        list(TradeOrder.objects.order_by("pk").values_list("pk", "status", "cancel_requested_at")) == before
    )
    assert not AuditLog.objects.filter(action__in=["positions_close", "liquidate"]).exists()
