"""Who reaches the live-trade page and which project it opens: login, redirects, another user's project."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Project
from tests.factories import ProjectFactory, UserFactory
from tests.tradedesk.web.desk_page import HTMX, PAGE, seed_position

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/live-trade")


def test_anonymous_htmx_request_gets_a_redirect_header_not_a_login_page(
    client: Client, project: Project
) -> None:
    response = client.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_root_redirects_to_the_page(client_in: Client) -> None:
    response = client_in.get("/")
    assert response.status_code == 302
    assert response["Location"] == PAGE


def test_login_page_renders(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"desk.css" in response.content


def test_another_users_project_is_not_found(client_in: Client, db: Any) -> None:
    other = ProjectFactory(name="bravo", members=[UserFactory(username="bob")])
    assert client_in.get(PAGE, {"project": other.pk}).status_code == 404
    assert client_in.get(reverse("live-trade-orders"), {"project": other.pk}, **HTMX).status_code == 404
    assert client_in.get(PAGE, {"project": "999999"}).status_code == 404


def test_page_without_project_opens_the_first_project_with_positions(client_in: Client, user: Any) -> None:
    ProjectFactory(name="aaa-empty", members=[user])
    holding = ProjectFactory(name="zzz-holding", members=[user])
    seed_position(holding)
    response = client_in.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?project={holding.pk}"


def test_page_without_project_opens_the_project_used_last(
    client_in: Client, user: Any, project: Project
) -> None:
    holding = ProjectFactory(name="holding", members=[user])
    seed_position(holding)
    client_in.get(PAGE, {"project": project.pk})
    response = client_in.get(PAGE)
    assert response["Location"] == f"{PAGE}?project={project.pk}"
