"""schemathesis against /api/openapi.json: no generated request gets a 5xx, every refusal has the one shape.

Positive cases (valid per the schema), negative cases (schemathesis breaks the schema: wrong types, missing
or unknown fields, out-of-range values) and generated cases sent with a method their path lacks, with an
oversize body or with an unknown field. Derandomized with few examples so CI runs the same bounded set.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error

from orders.services import api_token_create
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

UNKNOWN_FIELD = "surprise_field"
PADDING = 8192
BODY_CAP = 4096


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
# An engine restart takes one free-text path segment (the mode) and no body: no value breaks its schema.
negative = schemathesis.from_pytest_fixture(
    "api_schema", data_generation_methods=[DataGenerationMethod.negative]
).exclude(path_regex=r"/restart$")
with_body = schema.include(lambda context: "requestBody" in context.operation.definition.raw)


def bounded(max_examples: int, *, generated_only: bool = False) -> Any:
    """Few examples, the same ones on every run (generated_only: not the schema's own examples, which
    bypass the generation hooks)."""
    return hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        **({"phases": [Phase.generate]} if generated_only else {}),
    )


@pytest.fixture
def fuzz_token(db: Any) -> str:
    """A member of a project with an order and a position, so ids the fuzzer guesses may exist."""
    user = UserFactory(username="fuzzer")
    project = ProjectFactory(name="fuzz", members=[user])
    TradeOrderFactory(project=project)
    return api_token_create(user=user)[1]


def call(case: Any, token: str, **kwargs: Any) -> Any:
    response = case.call_wsgi(headers={"Authorization": f"Bearer {token}"}, **kwargs)
    case.validate_response(response, checks=(not_a_server_error,))
    return response


def error_shape(case: Any, response: Any) -> dict[str, Any]:
    """The answer is the API's one error shape: JSON {detail, code, errors} with errors an object."""
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.get_data()[:300]!r}"
    assert response.headers["Content-Type"].startswith("application/json"), where
    body = json.loads(response.get_data())
    assert isinstance(body, dict) and set(body) == {"detail", "code", "errors"}, where
    assert isinstance(body["code"], str) and isinstance(body["errors"], dict), where
    return body


@schema.parametrize()
@bounded(25)
def test_no_input_produces_a_server_error(case: Any, fuzz_token: str) -> None:
    response = call(case, fuzz_token)
    if response.status_code >= 400:
        error_shape(case, response)


@negative.parametrize()
@bounded(15)
def test_requests_that_break_the_schema_are_refused_in_the_error_shape(case: Any, fuzz_token: str) -> None:
    response = call(case, fuzz_token)
    if case.meta is not None and case.meta.body is DataGenerationMethod.negative:
        # A body the schema refuses is refused; unknown query keys are ignored, as query strings usually are.
        assert response.status_code >= 400, (case.method, case.formatted_path, case.body)
    if response.status_code >= 400:
        error_shape(case, response)


def _methods_of(case: Any) -> set[str]:
    return {method.upper() for method in case.operation.schema.raw_schema["paths"][case.operation.path]}


@schema.parametrize()
@bounded(2)
def test_a_generated_request_sent_with_a_method_its_path_lacks_is_405(case: Any, fuzz_token: str) -> None:
    allowed = _methods_of(case)
    wrong = [method for method in ("GET", "POST", "PUT", "PATCH", "DELETE") if method not in allowed]
    assert wrong
    for method in wrong:
        response = call(case, fuzz_token, method=method)
        assert response.status_code == 405, (method, case.formatted_path)
        assert error_shape(case, response)["code"] == "method_not_allowed"
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= allowed


def pad_body(context: Any, strategy: Any) -> Any:
    """Generated bodies grow past the body cap."""
    return strategy.map(lambda body: {**body, "padding": "x" * PADDING} if isinstance(body, dict) else body)


@with_body.hooks.apply(pad_body, name="before_generate_body")
@with_body.parametrize()
@bounded(3, generated_only=True)
def test_a_generated_body_over_the_cap_is_413_in_the_error_shape(
    case: Any, fuzz_token: str, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BODY_CAP
    assert len(case.body["padding"]) == PADDING
    response = call(case, fuzz_token)
    assert response.status_code == 413, (case.method, case.formatted_path)
    assert error_shape(case, response)["code"] == "payload_too_large"


def add_unknown_field(context: Any, strategy: Any) -> Any:
    """Generated bodies carry one field no schema declares."""
    return strategy.map(lambda body: {**body, UNKNOWN_FIELD: 1} if isinstance(body, dict) else body)


@with_body.hooks.apply(add_unknown_field, name="before_generate_body")
@with_body.parametrize()
@bounded(3, generated_only=True)
def test_a_generated_body_with_an_unknown_field_is_422_naming_it(case: Any, fuzz_token: str) -> None:
    assert case.body[UNKNOWN_FIELD] == 1
    response = call(case, fuzz_token)
    assert response.status_code == 422, (case.method, case.formatted_path, response.get_data()[:300])
    body = error_shape(case, response)
    assert body["code"] == "invalid" and body["errors"].get(UNKNOWN_FIELD) == "unknown field", body
