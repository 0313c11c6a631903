"""Fixtures of the interface tests: a logged-in client, and orders kept from the engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def no_dispatch(monkeypatch: Any) -> None:
    """Orders are not handed to an engine here (the e2e tests do that)."""
    monkeypatch.setattr("execution.signals.dispatch_enqueue", lambda **kwargs: None)


@pytest.fixture
def client_in(user: Any) -> Client:
    """The project's trader, logged in."""
    client = Client()
    client.force_login(user)
    return client
