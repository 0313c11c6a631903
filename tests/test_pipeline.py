"""End to end, everything real: API -> post_save -> Redis -> Celery worker -> simulator process -> events file
-> ingest -> FILLED."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from orders.models import TradeOrder
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_manual_order_goes_new_submitted_filled_through_worker_and_engine(
    api: Client, project: Any, celery_worker_thread: Any, execution_root: Path
) -> None:
    body = {
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 2,
        "order_type": "MKT",
        "project_id": project.pk,
        "client_order_id": "oi_pipeline_1",
    }
    response = api.post("/api/trade/orders", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]

    def filled() -> Any:
        data = api.get(f"/api/trade/orders/{order_id}").json()
        return data if data["status"] == "FILLED" else None

    data = wait_for(filled, timeout=20)
    assert data, api.get(f"/api/trade/orders/{order_id}").json()
    assert data["filled_quantity"] == "2" and data["ib_order_id"] is not None
    assert [e["status"] for e in data["events"]][:1] == ["Submitted"] and data["fills"]

    # The files are where the contract puts them.
    folder = execution_root / "engines" / "paper"
    intent = json.loads((folder / "intents" / "oi_pipeline_1.json").read_text())
    assert intent["order_intent_id"] == "oi_pipeline_1" and intent["quantity"] == 2
    config = json.loads((folder / "config.json").read_text())
    assert config["parameters"]["events-file"] == str(folder / "events.jsonl")
    assert (folder / "config.json").stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines() if line]
    assert {"type": "engine", "status": "started"}.items() <= lines[0].items()
    assert any(line.get("tag") == "oi_pipeline_1" and line["status"] == "Filled" for line in lines)

    # The same client_order_id again: nothing new is created or sent.
    again = api.post("/api/trade/orders", data=json.dumps(body), content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == order_id
    assert TradeOrder.objects.count() == 1
    order = TradeOrder.objects.get()
    assert order.filled_quantity == Decimal(2) and order.dispatch_attempts == 1


def test_two_orders_from_two_projects_of_one_mode_share_one_engine(
    api: Client, user: Any, celery_worker_thread: Any, execution_root: Path
) -> None:
    from tests.factories import ProjectFactory

    first, second = ProjectFactory(name="p-one", members=[user]), ProjectFactory(name="p-two", members=[user])
    ids = []
    for project in (first, second):
        body = {"symbol": "MSFT", "side": "BUY", "quantity": 1, "project_id": project.pk}
        ids.append(
            api.post("/api/trade/orders", data=json.dumps(body), content_type="application/json").json()["id"]
        )
        time.sleep(0.1)

    def all_filled() -> bool:
        return all(api.get(f"/api/trade/orders/{pk}").json()["status"] == "FILLED" for pk in ids)

    assert wait_for(all_filled, timeout=20)
    runs = {TradeOrder.objects.get(pk=pk).params["manual_execution"]["run_id"] for pk in ids}
    pids = {TradeOrder.objects.get(pk=pk).params["manual_execution"]["pid"] for pk in ids}
    assert len(runs) == 1 and len(pids) == 1


def test_cancel_of_a_working_order_goes_to_its_engine_as_a_cancel_command(
    api: Client, project: Any, celery_worker_thread: Any, execution_root: Path
) -> None:
    body = {
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 1,
        "order_type": "LMT",
        "limit_price": "1.00",
        "project_id": project.pk,
    }
    order_id = api.post("/api/trade/orders", data=json.dumps(body), content_type="application/json").json()[
        "id"
    ]

    def status() -> str:
        return api.get(f"/api/trade/orders/{order_id}").json()["status"]

    assert wait_for(lambda: status() == "SUBMITTED", timeout=20)
    response = api.post(f"/api/trade/orders/{order_id}/cancel")
    assert response.status_code == 202, response.content
    assert response.json()["cancel_requested"] is True
    assert wait_for(lambda: status() == "CANCELED", timeout=20)
    results = list((execution_root / "engines" / "paper").glob("result-command-*.json"))
    assert any(json.loads(p.read_text()).get("CommandName") == "CancelOrderCommand" for p in results)
