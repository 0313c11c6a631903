"""Admin of the engine halts: staff halt and resume through the service (audited, channel admin)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import AuditLog, EngineHalt
from orders.services import Actor, engine_halt_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_enginehalt_changelist")


@pytest.fixture
def staff(db: Any) -> Any:
    return UserFactory(username="ops", is_staff=True)


@pytest.fixture
def staff_client(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def rows(db: Any) -> None:
    for mode in ("paper", "live"):
        EngineHalt.objects.get_or_create(mode=mode)


def test_staff_halt_a_mode_from_its_admin_page(staff_client: Client) -> None:
    url = reverse("admin:orders_enginehalt_change", args=["paper"])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"halted": "on", "reason": "market data outage"})
    assert response.status_code == 302
    row = EngineHalt.objects.get(mode="paper")
    assert (row.halted, row.reason, row.changed_by_name) == (True, "market data outage", "ops")
    entry = AuditLog.objects.get(action="engine_halt")
    assert (entry.channel, entry.detail["mode"]) == ("admin", "paper")
    assert "market data outage" in staff_client.get(CHANGELIST).content.decode()


def test_a_halt_without_a_reason_is_refused_beside_the_field(staff_client: Client) -> None:
    url = reverse("admin:orders_enginehalt_change", args=["live"])
    response = staff_client.post(url, {"halted": "on", "reason": ""})
    assert response.status_code == 200 and "Say why the engine is halted." in response.content.decode()
    assert EngineHalt.objects.get(mode="live").halted is False


def test_the_resume_action_resumes_the_selected_halted_modes(staff_client: Client, staff: Any) -> None:
    engine_halt_set(mode="paper", halted=True, reason="drill", actor=Actor(user=staff))
    response = staff_client.post(
        CHANGELIST, {"action": "resume_selected", "_selected_action": ["paper", "live"]}, follow=True
    )
    assert "Resumed: PAPER" in response.content.decode()
    assert not EngineHalt.objects.filter(halted=True).exists()
    assert AuditLog.objects.filter(action="engine_resume", channel="admin").count() == 1


def test_a_trader_cannot_reach_the_admin(user: Any) -> None:
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("admin:orders_enginehalt_change", args=["paper"]), {"halted": "on", "reason": "x"}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert EngineHalt.objects.get(mode="paper").halted is False
