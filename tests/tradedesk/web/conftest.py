"""Fixtures of the page's tests: a push stream's access for alice's session in the project."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.test import Client

from tradedesk.web.stream import Access
from tradedesk.web.stream_rows import Look


@pytest.fixture
def access(user: Any, project: Any) -> Access:
    """What a stream opened by alice's logged-in browser for the project serves (English, UTC)."""
    client = Client()
    client.force_login(user)
    session = client.session
    return Access(
        session_key=session.session_key,
        user_id=str(user.pk),
        auth_hash=session[HASH_SESSION_KEY],
        project_id=project.pk,
        look=Look(language="en", zone="UTC"),
    )
