"""PATCH /api/trade/orders/{id} of a trailing stop's trailing amount and a limit if touched's trigger: through the
worker to the simulator, which confirms them; a field the order's type does not have is a 422 naming it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import OrderStatus
from tests.factories import TradeOrderFactory
from tests.tradedesk.api.test_modify import URL, patch
from tests.waiting import wait_for


def placed(api: Client, project: Any, **fields: Any) -> int:
    """A BUY 2 AAPL the simulator acknowledged (working: far from the market on purpose)."""
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 2, "project_id": project.pk, **fields}
    response = api.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]

    def acknowledged() -> Any:
        data = api.get(f"{URL}/{order_id}").json()
        return data["status"] == "SUBMITTED" and data["ib_order_id"] is not None

    assert wait_for(acknowledged, timeout=20), api.get(f"{URL}/{order_id}").json()
    return int(order_id)


def confirmed(api: Client, order_id: int) -> dict[str, Any]:
    data = wait_for(
        lambda: (d := api.get(f"{URL}/{order_id}").json()) and not d["update_pending"] and d, timeout=20
    )
    assert data, api.get(f"{URL}/{order_id}").json()
    assert "UpdateSubmitted" in [e["status"] for e in data["events"]]
    return data  # type: ignore[no-any-return]


@pytest.mark.django_db(transaction=True)
def test_a_trailing_amount_and_a_trigger_are_modified_through_the_engine_which_confirms_them(
    api: Client, project: Any, celery_worker_thread: Any
) -> None:
    project.price_band_soft_pct = project.price_band_hard_pct = Decimal("99.9")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])
    trail = placed(
        api, project, order_type="TRAIL", trailing_amount=50, trailing_as_percent=True
    )  # far above
    lit = placed(api, project, order_type="LIT", trigger_price=1, limit_price=2)  # never touched down there

    response = patch(api, trail, {"trailing_amount": 40})
    assert response.status_code == 202, response.content
    assert (response.json()["update_pending"], response.json()["update_trailing_amount"]) == (True, "40")
    data = confirmed(api, trail)
    assert (data["trailing_amount"], data["trailing_as_percent"], data["update_trailing_amount"]) == (
        "40",
        True,
        None,
    )

    response = patch(api, lit, {"trigger_price": 1.5})
    assert response.status_code == 202, response.content
    assert response.json()["update_trigger_price"] == "1.5"
    data = confirmed(api, lit)
    assert (data["trigger_price"], data["limit_price"], data["status"]) == ("1.5", "2", "SUBMITTED")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("order_type", "body", "errors"),
    [
        (
            "TRAIL",
            {"trigger_price": 180},
            {"trigger_price": "only a limit-if-touched order has a trigger price"},
        ),
        ("LIT", {"trailing_amount": 1}, {"trailing_amount": "only a trailing stop has a trailing amount"}),
        ("LMT", {"trailing_amount": 1}, {"trailing_amount": "only a trailing stop has a trailing amount"}),
        ("TRAIL", {"trailing_amount": 0}, {"trailing_amount": "must be greater than 0"}),
        (
            "TRAIL",
            {"trailing_amount": 100, "trailing_as_percent": True},
            None,
        ),  # StrictIn: not a modify's field
    ],
)
def test_a_field_the_orders_type_does_not_have_is_a_422_naming_it(
    api: Client,
    project: Any,
    monkeypatch: Any,
    order_type: str,
    body: dict[str, Any],
    errors: dict[str, str] | None,
) -> None:
    # The run that holds the order is running (else the answer is that 409, whatever the fields).
    monkeypatch.setattr(
        "execution.engine.process.running_engine", lambda mode: {"pid": 4242, "run_id": "r-1"}
    )
    prices = {"TRAIL": {"side": "SELL", "trailing_amount": 2, "stop_price": 188},
              "LIT": {"trigger_price": 185, "limit_price": 186}, "LMT": {"limit_price": 100}}[order_type]  # fmt: skip
    order = TradeOrderFactory(
        project=project, order_type=order_type, status=OrderStatus.SUBMITTED, ib_order_id=7,
        dispatched_at=timezone.now(), params={"source": "manual", "manual_execution": {"run_id": "r-1"}}, **prices,
    )  # fmt: skip
    response = patch(api, order.pk, body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid"
    if errors is not None:
        assert response.json()["errors"] == errors
    else:
        assert "trailing_as_percent" in json.dumps(response.json()["errors"])
    order.refresh_from_db()
    assert not order.update_pending
