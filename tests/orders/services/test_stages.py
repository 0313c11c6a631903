"""An order's stage times: the click (the client's clock, clamped to the commit), commit, pick-up, hand-over,
Submitted, Filled, ingest and push recorded in order through the real path (API, dispatch task, simulator,
ingest, stream), the first moment kept, never bumping the change counter; shown as gaps on the timeline,
counted in /metrics and filterable in the admin."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from execution import tasks
from execution.ingest.events import ingest_execution_events
from orders.models import ORDER_STAGES, OrderStageTimes, OrderStatus, ProjectVersion, TradeOrder
from orders.services import create_trade_order
from orders.services.stages import click_clamped, order_stage_gaps, order_stages_pushed, order_stages_record
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def test_a_click_is_clamped_into_the_minute_before_its_commit() -> None:
    committed = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    assert click_clamped(
        clicked=committed - timedelta(milliseconds=40), committed=committed
    ) == committed - timedelta(milliseconds=40)
    assert click_clamped(clicked=committed + timedelta(seconds=5), committed=committed) == committed
    assert click_clamped(
        clicked=committed - timedelta(hours=3), committed=committed
    ) == committed - timedelta(seconds=60)
    assert click_clamped(clicked=None, committed=committed) is None


def test_the_first_moment_of_a_stage_is_kept_and_the_change_counter_never_moves(
    user: Any, project: Any
) -> None:
    order = create_trade_order(
        {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
    ).order
    before = ProjectVersion.objects.get(project=project).orders
    first = timezone.now()
    assert order_stages_record(stage="picked_up", at={order.pk: first}) == 1
    assert order_stages_record(stage="picked_up", order_ids=[order.pk]) == 0  # a retried task keeps the first
    assert OrderStageTimes.objects.get(order=order).picked_up_at == first
    assert ProjectVersion.objects.get(project=project).orders == before
    with pytest.raises(ValueError):
        order_stages_record(stage="lunch", order_ids=[order.pk])


def test_a_push_is_recorded_at_the_moment_the_stream_sent_it_for_the_ingested_fills_only(
    user: Any, project: Any
) -> None:
    ingested, waiting = (
        create_trade_order(
            {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
        ).order
        for _ in range(2)
    )
    order_stages_record(stage="ingested", order_ids=[ingested.pk])
    sent = timezone.now() - timedelta(milliseconds=7)  # the event left before the stream's database got to it

    assert order_stages_pushed(project_id=project.pk, at=sent) == 1

    assert OrderStageTimes.objects.get(order=ingested).pushed_at == sent
    assert OrderStageTimes.objects.get(order=waiting).pushed_at is None
    assert order_stages_pushed(project_id=project.pk) == 0  # pushed once


def test_the_api_takes_a_click_time_and_refuses_a_bad_one(api: Client, project: Any) -> None:
    url = "/api/trade/orders"
    clicked = (timezone.now() - timedelta(milliseconds=30)).isoformat()
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk, "clicked_at": clicked}
    response = api.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    times = OrderStageTimes.objects.get(order_id=response.json()["id"])
    assert times.clicked_at is not None and times.clicked_at <= times.committed_at  # type: ignore[operator]

    bad = {**body, "clicked_at": "yesterday-ish", "client_order_id": "bad-click"}
    response = api.post(url, bad, content_type="application/json")
    assert response.status_code == 422 and "clicked_at" in response.json()["errors"]
    assert not TradeOrder.objects.filter(client_order_id="bad-click").exists()


@pytest.mark.django_db(transaction=True)
def test_stage_times_of_an_order_are_recorded_in_order_and_shown_on_its_timeline(
    user: Any, project: Any, settings: Any
) -> None:
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 5.0
    clicked = timezone.now()
    order = create_trade_order(
        {"symbol": "AAPL", "side": "BUY", "quantity": 3, "project_id": project.pk, "clicked_at": clicked},
        user=user,
    ).order
    tasks.execute_manual_order.apply(kwargs={"order_id": order.pk, "mode": order.mode})

    def filled() -> bool:
        ingest_execution_events()
        return TradeOrder.objects.get(pk=order.pk).status == OrderStatus.FILLED

    assert wait_for(filled, 30)
    order_stages_pushed(project_id=project.pk)  # what the page stream does after telling the screens

    times = OrderStageTimes.objects.get(order=order)
    moments = [getattr(times, f"{stage}_at") for stage in ORDER_STAGES]
    assert all(moment is not None for moment in moments), moments
    # The engine's Submitted and Filled carry its clock in milliseconds: allow it that much.
    slack = timedelta(milliseconds=1)
    assert all(a <= b + slack for a, b in itertools.pairwise(moments)), moments

    gaps = order_stage_gaps(times)
    assert [gap.label for gap in gaps] == [
        "request",
        "queue",
        "hand-over",
        "engine",
        "fill",
        "ingest",
        "screen",
    ]
    client = Client()
    client.force_login(user)
    page = client.get(reverse("live-trade-order", args=[order.pk]), HTTP_HX_REQUEST="true")
    shown = page.content.decode()
    assert 'data-testid="stage-gaps"' in shown and "engine " in shown and " ms · ingest " in shown

    metrics = _staff_metrics()
    assert 'tradedesk_order_stage_seconds_count{stage="engine"} 1.0' in metrics


def _staff_metrics() -> str:
    from tests.factories import UserFactory

    staff = UserFactory(username="ops", is_staff=True)
    client = Client()
    client.force_login(staff)
    return client.get("/metrics").content.decode()


def test_the_admin_lists_slow_orders(user: Any, project: Any, admin_client: Client) -> None:
    fast, slow, untimed = (
        create_trade_order(
            {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
        ).order
        for _ in range(3)
    )
    for order, ms in ((fast, 90), (slow, 700)):
        committed = OrderStageTimes.objects.get(order=order).committed_at
        order_stages_record(stage="ingested", at={order.pk: committed + timedelta(milliseconds=ms)})  # type: ignore[operator]
    OrderStageTimes.objects.filter(order=untimed).delete()

    response = admin_client.get(reverse("admin:orders_tradeorder_changelist"), {"slower_than_ms": "500"})
    assert response.status_code == 200
    listed = {order.pk for order in response.context["cl"].result_list}
    assert listed == {slow.pk}
    response = admin_client.get(reverse("admin:orders_tradeorder_changelist"), {"slower_than_ms": "150"})
    assert {order.pk for order in response.context["cl"].result_list} == {slow.pk}
