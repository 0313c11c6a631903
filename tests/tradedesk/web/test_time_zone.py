"""The trader's time zone: the setting's default, a stored per-user choice applied by the middleware to the page
and the admin, an unknown zone refused with a form error; the API stays UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.errors import OrderValidationError
from orders.models import Project, TimeZoneChoice, TradeOrder
from orders.services import time_zone_remember, time_zone_remembered
from tests.factories import TradeOrderFactory, UserFactory
from tradedesk.env import env_time_zone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]

PAGE = reverse("live-trade")
SET_ZONE = reverse("live-trade-time-zone")
WINTER = datetime(2026, 1, 15, 19, 32, 5, tzinfo=UTC)
UTC_TOOLTIP = 'datetime="2026-01-15T19:32:05Z" title="2026-01-15 19:32:05 UTC"'


@pytest.fixture
def order(project: Project) -> TradeOrder:
    """An order created at 19:32:05 UTC on a winter day."""
    order = TradeOrderFactory(project=project, quantity=Decimal(1))
    TradeOrder.objects.filter(pk=order.pk).update(created_at=WINTER)
    return order


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shows(html: str, clock: str, zone: str) -> bool:
    """An order row shows the local clock (UTC in the tooltip), with its zone when the header's differs (DST)."""
    return (
        f"<time {UTC_TOOLTIP}>{clock}</time>" in html or f"<time {UTC_TOOLTIP}>{clock} {zone}</time>" in html
    )


def page(client: Client, project: Project) -> str:
    response = client.get(PAGE, {"project": project.pk})
    assert response.status_code == 200
    return response.content.decode()


def test_times_default_to_the_desks_zone_setting(
    user: Any, project: Project, order: TradeOrder, settings: Any
) -> None:
    settings.TRADEDESK_TIME_ZONE = "America/Chicago"
    html = page(signed_in(user), project)
    assert shows(html, "13:32:05", "CST")
    assert '<option value="America/Chicago" selected>America/Chicago · C' in html


def test_a_chosen_zone_is_stored_and_applied_to_the_rows_already_rendered(
    user: Any, project: Project, order: TradeOrder, settings: Any
) -> None:
    settings.TRADEDESK_TIME_ZONE = "America/New_York"
    client = signed_in(user)
    assert shows(page(client, project), "14:32:05", "EST")
    response = client.post(SET_ZONE, {"time_zone": "Asia/Tokyo", "project": project.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"?project={project.pk}")
    assert time_zone_remembered(user=user) == "Asia/Tokyo"
    html = page(client, project)
    assert shows(html, "04:32:05", "JST")
    assert ">14:32:05<" not in html
    # Per user, not per session: another browser of the same user shows the same zone.
    assert shows(page(signed_in(user), project), "04:32:05", "JST")
    # And not for anyone else.
    other = UserFactory(username="bob")
    project.members.add(other)
    assert shows(page(signed_in(other), project), "14:32:05", "EST")


def test_the_admin_shows_times_in_the_chosen_zone(order: TradeOrder, settings: Any) -> None:
    lead = UserFactory(username="lead", is_staff=True, is_superuser=True)
    settings.TRADEDESK_TIME_ZONE = "America/New_York"
    client = signed_in(lead)
    assert (
        client.post(SET_ZONE, {"time_zone": "Europe/London", "project": order.project_id}).status_code == 302
    )
    html = client.get(reverse("admin:orders_tradeorder_changelist")).content.decode()
    assert "2026-01-15 19:32:05 GMT" in html


@pytest.mark.parametrize(
    # localtime: the server's own /etc/localtime, not a zone; Factory: tzdata's "zone unknown" (-00).
    "zone",
    ["Mars/Olympus", "../../etc/passwd", "", "EST5EDT;drop", "x" * 80, "localtime", "Factory"],
)
def test_an_unknown_zone_is_refused_with_a_form_error(
    user: Any, project: Project, order: TradeOrder, settings: Any, zone: str
) -> None:
    settings.TRADEDESK_TIME_ZONE = "America/New_York"
    client = signed_in(user)
    response = client.post(SET_ZONE, {"time_zone": zone, "project": project.pk})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="time-zone-error"' in html and 'aria-invalid="true"' in html
    assert not TimeZoneChoice.objects.filter(user=user).exists()
    assert shows(html, "14:32:05", "EST")  # the page still shows the zone in force


def test_an_unknown_zone_sent_by_htmx_gets_the_form_back(user: Any, project: Project) -> None:
    response = signed_in(user).post(
        SET_ZONE, {"time_zone": "Mars/Olympus", "project": project.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith("<form") and "Unknown time zone" in html


def test_a_known_zone_sent_by_htmx_reloads_the_page(user: Any, project: Project) -> None:
    response = signed_in(user).post(
        SET_ZONE, {"time_zone": "Asia/Shanghai", "project": project.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204 and response["HX-Redirect"].endswith(f"?project={project.pk}")


def test_setting_a_zone_needs_a_login_and_a_post(user: Any, project: Project) -> None:
    assert Client().post(SET_ZONE, {"time_zone": "UTC"}).status_code == 302
    assert signed_in(user).get(SET_ZONE).status_code == 405
    assert not TimeZoneChoice.objects.exists()


def test_the_error_is_translated(user: Any, project: Project) -> None:
    response = signed_in(user).post(
        SET_ZONE + "?lang=zh-hans", {"time_zone": "Mars/Olympus", "project": project.pk}
    )
    assert "未知时区" in response.content.decode()


def test_the_service_refuses_unknown_zones(user: Any) -> None:
    with pytest.raises(OrderValidationError) as refused:
        time_zone_remember(user=user, time_zone="Mars/Olympus")
    assert refused.value.errors == {"time_zone": "not an IANA time zone"}
    assert time_zone_remember(user=user, time_zone=" Europe/Paris ") == "Europe/Paris"
    assert time_zone_remembered(user=user) == "Europe/Paris"


def test_the_api_keeps_utc_whatever_the_users_zone(
    user: Any, api: Client, order: TradeOrder, settings: Any
) -> None:
    settings.TRADEDESK_TIME_ZONE = "Asia/Tokyo"
    time_zone_remember(user=user, time_zone="Asia/Tokyo")
    created = api.get(f"/api/trade/orders/{order.pk}").json()["created_at"]
    parsed = datetime.fromisoformat(created)
    assert parsed == WINTER and parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


def test_the_zone_is_active_for_the_request_only(user: Any, project: Project, settings: Any) -> None:
    settings.TRADEDESK_TIME_ZONE = "Asia/Tokyo"
    page(signed_in(user), project)
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_setting_must_name_a_known_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEDESK_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="TRADEDESK_TIME_ZONE"):
        env_time_zone("TRADEDESK_TIME_ZONE", "America/New_York")
    monkeypatch.setenv("TRADEDESK_TIME_ZONE", "Asia/Shanghai")
    assert env_time_zone("TRADEDESK_TIME_ZONE", "America/New_York") == "Asia/Shanghai"
    monkeypatch.delenv("TRADEDESK_TIME_ZONE")
    assert env_time_zone("TRADEDESK_TIME_ZONE", "America/New_York") == "America/New_York"


def test_a_choice_made_in_another_browser_applies_at_the_next_page_load(
    user: Any, project: Project, order: TradeOrder, settings: Any
) -> None:
    settings.TRADEDESK_TIME_ZONE = "America/New_York"
    first = signed_in(user)
    assert shows(page(first, project), "14:32:05", "EST")
    signed_in(user).post(SET_ZONE, {"time_zone": "Asia/Tokyo", "project": project.pk})
    assert shows(page(first, project), "04:32:05", "JST")


def test_polls_read_the_zone_from_the_session_not_the_table(
    user: Any, project: Project, order: TradeOrder
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(user)
    client.post(SET_ZONE, {"time_zone": "Asia/Tokyo", "project": project.pk})
    page(client, project)
    with CaptureQueriesContext(connection) as polled:
        response = client.get(reverse("live-trade-orders"), {"project": project.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and shows(response.content.decode(), "04:32:05", "JST")
    assert "orders_timezonechoice" not in " ".join(query["sql"] for query in polled.captured_queries)


def test_a_row_rendered_before_a_dst_change_names_its_zone_after_it(order: TradeOrder) -> None:
    """The rows' cache must not keep a winter row without its "EST" once the header reads EDT: the clock's
    label depends on the zone's abbreviation now, not only on the zone's name."""
    import zoneinfo
    from unittest import mock

    from tradedesk.web.orders_table import order_rows

    project = order.project
    order.refresh_from_db()
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 2, 1, 12, tzinfo=UTC)):
            (winter_row,) = order_rows([order], project=project, selected_id=None, cutoff=WINTER)
        with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 7, 1, 12, tzinfo=UTC)):
            (summer_row,) = order_rows([order], project=project, selected_id=None, cutoff=WINTER)
    assert f"<time {UTC_TOOLTIP}>14:32:05</time>" in winter_row
    assert f"<time {UTC_TOOLTIP}>14:32:05 EST</time>" in summer_row
