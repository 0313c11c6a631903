"""schemathesis against /api/openapi.json: no generated request gets a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from orders.services import api_token_create
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory


@pytest.fixture
def api_schema(db: Any) -> Any:
    """The live OpenAPI schema of the WSGI app (requests keep the test's DB connection, as the test Client does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from tradedesk.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # django-ninja writes OpenAPI 3.1; schemathesis 3 handles it behind force_schema_version.
    yield schemathesis.from_wsgi("/api/openapi.json", application, force_schema_version="30")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def fuzz_token(db: Any) -> str:
    """A member of a project with an order and a position, so ids the fuzzer guesses may exist."""
    user = UserFactory(username="fuzzer")
    project = ProjectFactory(name="fuzz", members=[user])
    TradeOrderFactory(project=project)
    return api_token_create(user=user)[1]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case: Any, fuzz_token: str) -> None:
    response = case.call_wsgi(headers={"Authorization": f"Bearer {fuzz_token}"})
    case.validate_response(response, checks=(schemathesis.checks.not_a_server_error,))


@pytest.fixture
def fuzz_client(fuzz_token: str) -> Any:
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {fuzz_token}")


def _operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/openapi.json").json()
    return [
        (path.replace("{order_id}", "1").replace("{project_id}", "1"), method, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_answers_405_413_and_unknown_fields_in_the_error_shape(
    fuzz_client: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    checked = 0
    for path, method, operation in _operations(fuzz_client):
        shapes = []
        if method != "put":
            shapes.append((fuzz_client.put(path, "{}", content_type="application/json"), 405))
        if "requestBody" in operation:
            too_big = '{"pad": "' + "x" * 10_000 + '"}'
            send = getattr(fuzz_client, method)  # the operation's own method (POST, PATCH)
            shapes.append((send(path, too_big, content_type="application/json"), 413))
            unknown = send(path, '{"surprise_field": 1}', content_type="application/json")
            assert "surprise_field" in unknown.json()["errors"], (path, unknown.content)
            shapes.append((unknown, 422))
        for response, status in shapes:
            assert response.status_code == status, (path, method, response.content)
            assert set(response.json()) == {"detail", "code", "errors"}, (path, response.content)
            checked += 1
    assert checked >= 10
