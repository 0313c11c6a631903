"""The admin's order page shows the order's time in force, GTD date and outside-RTH, read-only."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Project
from tests.factories import TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(UserFactory(username="lead", is_staff=True, is_superuser=True))
    return client


def test_the_order_page_shows_the_time_in_force_read_only(admin_client: Client, project: Project) -> None:
    order = TradeOrderFactory(
        project=project, order_type="LMT", limit_price=100, time_in_force="GTD", good_till_date=date(2030, 1, 2),
        outside_rth=True,
    )  # fmt: skip
    body = admin_client.get(reverse("admin:orders_tradeorder_change", args=[order.pk])).content.decode()
    for field in ("time_in_force", "good_till_date", "outside_rth"):
        assert f"field-{field}" in body and f'name="{field}"' not in body
    shown = re.search(r'field-time_in_force.*?<div class="readonly">([^<]*)<', body, re.S)
    assert shown is not None and shown.group(1) == "Good till date"
