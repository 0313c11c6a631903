"""Concurrent clicks, retries and engines on PostgreSQL with real threads (each its own connection) and the
simulator engine process: parallel requests on one project are decided one after the other (project lock)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from execution import actions as execution_services
from execution.dispatch import cancels
from execution.dispatch.bracket_legs import bracket_legs_send
from execution.ingest.events import ingest_execution_events
from orders.models import Position, Project, TradeOrder
from orders.services import apply_fill_to_order, create_trade_order, update_trade_order_status
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HTMX = {"HTTP_HX_REQUEST": "true"}


def in_parallel(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run call(i) in `count` threads released together; each thread closes its own DB connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = call(index)
        except Exception as exc:  # reported to the test below, never swallowed
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors, errors
    return results


def hold(project: Project, symbol: str, quantity: int, side: str = "BUY") -> None:
    """Give the project a position (a filled order that never reaches an engine)."""
    seed = TradeOrderFactory(project=project, symbol=symbol, side=side, quantity=Decimal(quantity))
    apply_fill_to_order(seed, quantity=quantity, price=50)
    update_trade_order_status(seed, "FILLED")


def post_json(token: str, path: str, body: dict[str, Any]) -> Any:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post(path, data=json.dumps(body), content_type="application/json")


def position(project: Project, symbol: str) -> Decimal:
    row = Position.objects.filter(project=project, symbol=symbol).first()
    return row.quantity if row is not None else Decimal(0)


def closing_orders(project: Project) -> list[TradeOrder]:
    return list(TradeOrder.objects.filter(project=project, params__action="close").order_by("id"))


def test_eight_parallel_closes_of_one_position_make_one_closing_order(project: Project, token: str) -> None:
    hold(project, "KO", 7)
    responses = in_parallel(
        8,
        lambda _i: post_json(
            token, "/api/trade/positions/close", {"project_id": project.pk, "symbols": ["KO"]}
        ),
    )
    assert [response.status_code for response in responses] == [200] * 8
    bodies = [response.json() for response in responses]
    assert sum(len(body["orders"]) for body in bodies) == 1
    assert sum(body["skipped"] == {"KO": "already being closed"} for body in bodies) == 7
    (close,) = closing_orders(project)
    assert (close.side, close.quantity) == ("SELL", Decimal(7))


def test_six_parallel_liquidations_make_one_closing_order_per_symbol(project: Project, token: str) -> None:
    hold(project, "AAPL", 3)
    hold(project, "MSFT", 4, side="SELL")
    hold(project, "KO", 7)
    responses = in_parallel(
        6, lambda _i: post_json(token, "/api/trade/positions/liquidate", {"project_id": project.pk})
    )
    assert [response.status_code for response in responses] == [200] * 6
    closes = closing_orders(project)
    assert sorted((o.symbol, o.side, o.quantity) for o in closes) == [
        ("AAPL", "SELL", Decimal(3)),
        ("KO", "SELL", Decimal(7)),
        ("MSFT", "BUY", Decimal(4)),
    ]


def test_a_double_click_on_close_from_one_session_makes_one_closing_order(
    project: Project, user: Any
) -> None:
    hold(project, "KO", 7)
    browser = Client()
    browser.force_login(user)

    def click(_i: int) -> Any:
        tab = Client()
        tab.cookies = browser.cookies
        return tab.post(reverse("live-trade-close"), {"project": project.pk, "symbols": ["KO"]}, **HTMX)

    assert [r.status_code for r in in_parallel(2, click)] == [200, 200]
    assert len(closing_orders(project)) == 1


def test_twelve_identical_posts_without_client_id_place_one_order(
    project: Project, token: str, settings: Any
) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 60
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 3, "project_id": project.pk}
    responses = in_parallel(12, lambda _i: post_json(token, "/api/trade/orders", body))
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [422] * 11
    refusals = [r.json() for r in responses if r.status_code == 422]
    assert all(r["code"] == "confirm_required" and r["checks"] == ["duplicate"] for r in refusals)
    assert TradeOrder.objects.filter(project=project).count() == 1


def test_twelve_posts_with_one_client_id_answer_200_with_the_one_order(
    project: Project, token: str, settings: Any
) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 60
    body = {
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 3,
        "project_id": project.pk,
        "client_order_id": "dbl-1",
    }
    responses = in_parallel(12, lambda _i: post_json(token, "/api/trade/orders", body))
    assert sorted(response.status_code for response in responses) == [200] * 11 + [201]
    assert {response.json()["id"] for response in responses} == {TradeOrder.objects.get().pk}


def test_parallel_sells_in_reduce_only_never_exceed_the_position(project: Project, token: str) -> None:
    hold(project, "KO", 5)
    Project.objects.filter(pk=project.pk).update(trading_state="REDUCING")
    body = {"symbol": "KO", "side": "SELL", "quantity": 5, "project_id": project.pk, "confirm": True}
    responses = in_parallel(4, lambda _i: post_json(token, "/api/trade/orders", body))
    assert sorted(response.status_code for response in responses) == [201, 422, 422, 422]


# ---- with the simulator engine process ---------------------------------------------------------------


def ingest_until(predicate: Callable[[], Any], timeout: float = 30) -> Any:
    """What the engine host does each tick (ingest, send pending cancel requests, send released closes, place and
    size the bracket legs tradedesk holds) until
    predicate() holds."""

    def step() -> Any:
        ingest_execution_events()
        cancels.cancels_send_pending()
        execution_services.closes_release(
            enqueue=lambda order_id: execution_services.order_dispatch(order_id=order_id)
        )
        bracket_legs_send(enqueue=lambda order_id: execution_services.order_dispatch(order_id=order_id))
        return predicate()

    return wait_for(step, timeout=timeout, interval=0.05)


def reload(order: TradeOrder) -> TradeOrder:
    order.refresh_from_db()
    return order


def test_close_goes_past_a_resting_limit_order(project: Project, user: Any, token: str) -> None:
    hold(project, "KO", 5)
    # Far above the market on purpose (it must rest): the project's price bands are widened for it.
    project.price_band_soft_pct = project.price_band_hard_pct = Decimal("99999")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])
    resting = create_trade_order(
        {"symbol": "KO", "side": "SELL", "quantity": 5, "order_type": "LMT", "limit_price": "500",
         "project_id": project.pk},
        user=user,
    ).order  # fmt: skip
    execution_services.order_dispatch(order_id=resting.pk)
    assert ingest_until(lambda: reload(resting).status == "SUBMITTED" and resting.ib_order_id is not None)

    responses = in_parallel(
        4,
        lambda _i: post_json(
            token, "/api/trade/positions/close", {"project_id": project.pk, "symbols": ["KO"]}
        ),
    )
    assert sum(len(r.json()["orders"]) for r in responses) == 1
    (close,) = closing_orders(project)
    assert close.params["hold_until_cancels"] == [resting.pk]

    assert ingest_until(lambda: reload(close).status == "FILLED"), (reload(resting), reload(close))
    assert reload(resting).status == "CANCELED"
    assert position(project, "KO") == 0


def test_fills_that_race_the_cancel_are_in_the_closing_quantity(
    project: Project, user: Any, token: str, settings: Any
) -> None:
    # The working SELL fills one share per step; the close cancels it while it fills.
    settings.TRADEDESK_SIM_PARTIAL_FILLS = 5
    settings.TRADEDESK_SIM_FILL_DELAY = 0.3
    hold(project, "KO", 5)
    selling = create_trade_order(
        {"symbol": "KO", "side": "SELL", "quantity": 5, "project_id": project.pk}, user=user
    ).order
    execution_services.order_dispatch(order_id=selling.pk)
    assert ingest_until(lambda: reload(selling).filled_quantity > 0 and selling.ib_order_id is not None)

    response = post_json(token, "/api/trade/positions/close", {"project_id": project.pk, "symbols": ["KO"]})
    assert response.status_code == 200
    if not response.json()["orders"]:
        # The SELL filled completely before the click: nothing to close.
        assert response.json()["skipped"] == {"KO": "no position"}
        assert position(project, "KO") == 0
        return
    (close,) = closing_orders(project)
    assert ingest_until(lambda: reload(close).status in ("FILLED", "CANCELED")), reload(close)
    selling = reload(selling)
    assert selling.status in ("CANCELED", "FILLED")
    if close.status == "FILLED":
        assert close.quantity == Decimal(5) - selling.filled_quantity
    else:
        assert close.status_message == "already flat" and selling.filled_quantity == 5
    assert position(project, "KO") == 0
