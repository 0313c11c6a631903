"""A page partial that fails answers the page's own error state (an HTML fragment desk.js shows), never
Django's error page: 503 while the database is unreachable, 500 otherwise. Full pages keep Django's."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from tradedesk.web import views

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client_in(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_failing_poll_answers_the_pages_error_fragment_with_500(
    client_in: Client, project: Any, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("presenter bug")

    monkeypatch.setattr(views, "render_poll", broken)
    response = client_in.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX)
    assert response.status_code == 500
    body = response.content.decode()
    assert 'data-td-error="500"' in body and "could not answer" in body
    assert "<html" not in body and "Traceback" not in body and "presenter bug" not in body


def test_an_unreachable_database_answers_503_with_retry_after(
    client_in: Client, project: Any, monkeypatch: Any
) -> None:
    def gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views, "render_poll", gone)
    response = client_in.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX)
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert 'data-td-error="503"' in response.content.decode()


def test_the_error_fragment_is_translated(client_in: Client, project: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "render_poll", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    response = client_in.get(reverse("live-trade-orders"), {"project": project.pk, "lang": "zh-hans"}, **HTMX)
    assert response.status_code == 500
    assert "服务器" in response.content.decode()


def test_404_of_a_partial_stays_djangos(client_in: Client) -> None:
    response = client_in.get(reverse("live-trade-orders"), {"project": 999999}, **HTMX)
    assert response.status_code == 404
    assert "data-td-error" not in response.content.decode()


def test_a_full_page_request_still_raises_to_djangos_handler(
    client_in: Client, project: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(views, "render_page", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    response = client_in.get(reverse("live-trade"), {"project": project.pk})
    assert response.status_code == 500
    assert "data-td-error" not in response.content.decode()
